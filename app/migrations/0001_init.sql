-- Users, their posts and their activity. With shards, every table lives on every shard and a
-- user's rows live on shard userId mod shardCount; posts reference their user on the same shard.
CREATE TABLE IF NOT EXISTS users (
    id         bigint PRIMARY KEY,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS posts (
    id         bigint PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS posts_user_newest ON posts (user_id, created_at DESC, id DESC);

-- The high-write subset; it moves to DynamoDB at the nosql rung.
CREATE TABLE IF NOT EXISTS activity (
    id         bigint PRIMARY KEY,
    user_id    bigint NOT NULL,
    kind       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS activity_user_newest ON activity (user_id, created_at DESC);
