-- What a live move installs on every PostgreSQL store it reads from or writes to (the mover
-- applies it; the app never does). Changes the app makes are captured in llama_move_log, in
-- the same transaction as the change, so an acknowledged write is either in the log or was
-- refused; the mover's own writes (application_name 'llama-move') are not captured, so a
-- store can be moved to and back without echo. llama_move_fence refuses the writes of an app
-- whose generation of a tier is older than the store accepts: that is how a switch fences the
-- store it leaves.
CREATE TABLE IF NOT EXISTS llama_move_log (
    seq  bigserial PRIMARY KEY,
    tier text   NOT NULL,
    tbl  text   NOT NULL,
    id   bigint NOT NULL,
    uid  bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS llama_move_log_tier ON llama_move_log (tier, seq);

CREATE TABLE IF NOT EXISTS llama_move_fence (
    tier    text PRIMARY KEY,
    min_gen int  NOT NULL
);

-- Copy progress of each tier, per table: the last key (user, id) copied from this store.
CREATE TABLE IF NOT EXISTS llama_move_progress (
    tier     text   NOT NULL,
    tbl      text   NOT NULL,
    last_uid bigint NOT NULL,
    last_id  bigint NOT NULL,
    PRIMARY KEY (tier, tbl)
);

-- TG_ARGV[0] is the tier, TG_ARGV[1] the column that names the row's user.
CREATE OR REPLACE FUNCTION llama_move_capture() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    app  text := coalesce(current_setting('application_name', true), '');
    need int;
    gen  int;
    r    jsonb;
BEGIN
    IF app = 'llama-move' THEN
        RETURN NULL;
    END IF;
    SELECT min_gen INTO need FROM llama_move_fence WHERE tier = TG_ARGV[0];
    IF need IS NOT NULL THEN
        gen := coalesce(substring(app from '(?:^| )' || TG_ARGV[0] || '=([0-9]+)')::int, 0);
        IF gen < need THEN
            RAISE EXCEPTION 'llama: the % tier has moved: this store takes writes of generation % on, not %', TG_ARGV[0], need, gen
                USING ERRCODE = 'LMFNC', HINT = 'read the parameters again and retry on the store they name';
        END IF;
    END IF;
    IF TG_OP = 'DELETE' THEN
        r := to_jsonb(OLD);
    ELSE
        r := to_jsonb(NEW);
    END IF;
    INSERT INTO llama_move_log (tier, tbl, id, uid) VALUES (TG_ARGV[0], TG_TABLE_NAME, (r->>'id')::bigint, (r->>TG_ARGV[1])::bigint);
    RETURN NULL;
END
$fn$;
