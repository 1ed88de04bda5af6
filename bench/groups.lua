-- wrk script: a page of 50 open group buys with their progress to MOQ.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("ATRIUM_TOKEN")
wrk.path = "/api/v1/groupbuy/groups?status=open&page_size=50"
