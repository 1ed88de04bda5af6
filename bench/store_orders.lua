-- wrk script: a page of 50 of one store's orders, as that store's manager.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("ATRIUM_TOKEN")
wrk.path = "/api/v1/codepop/stores/1/orders?page_size=50"
