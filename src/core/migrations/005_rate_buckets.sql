-- Token buckets that every instance on the database shares (login limits per
-- IP and per username: ratelimit_db.c). `allowed` is the outcome of the last
-- take, written by the same upsert that refills and takes.
CREATE TABLE rate_buckets (
    key     TEXT PRIMARY KEY,
    tokens  REAL NOT NULL,
    at      REAL NOT NULL,          -- unix seconds (fractional) of the last take
    allowed INTEGER NOT NULL
);
CREATE INDEX rate_buckets_at ON rate_buckets(at);
