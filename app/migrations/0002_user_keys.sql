-- A post's and an activity's identity is within its user's partition, as DynamoDB keys them
-- (userId, createdAt#id): ids are drawn from the time and 12 random bits, so two users' rows
-- may share one, on two shards; keyed by (user_id, id), they never collide when a move brings
-- them together, and a collision within one user is a unique violation the app draws again on.
ALTER TABLE posts DROP CONSTRAINT IF EXISTS posts_pkey;
ALTER TABLE posts ADD PRIMARY KEY (user_id, id);
ALTER TABLE activity DROP CONSTRAINT IF EXISTS activity_pkey;
ALTER TABLE activity ADD PRIMARY KEY (user_id, id);
