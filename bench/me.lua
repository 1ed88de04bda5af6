-- wrk script: authenticated GET /api/v1/me with the token in $ATRIUM_TOKEN.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("ATRIUM_TOKEN")
