-- pg_schema.sql: the event log in PostgreSQL, schema 3 (the version the
-- SQLite store has, with the same columns, rules and rule names).
--
-- Idempotent: every statement may run again on a database that has it.
-- Publishers write plain SQL:
--   INSERT INTO events(channel, event, data) VALUES ('news', 'add', 'hello');
--
-- Commit order is id order.  With ids from a plain sequence a reader doing
-- WHERE id > last can skip a row: transaction A takes id 1, B takes id 2
-- and commits, a reader sees 2 and moves past it, then A commits 1, which
-- that reader never reads.  Here every publishing transaction first takes
-- one transaction-level advisory lock, in the BEFORE INSERT trigger that
-- gives the id, and holds it until it commits or rolls back: publishing
-- transactions run one at a time from their first INSERT into events to
-- their end, as SQLite's writers do, so ids are given, and become visible,
-- in one order.  PostgreSQL releases a transaction's locks only after its
-- commit is visible to new snapshots, so a row is never visible before
-- every lower id is either visible or never will be (rolled back: a gap
-- no reader waits for).  The cost: a publisher holds the others up from
-- its INSERT to its COMMIT, so an application INSERTs its event last in
-- its transaction.  The sequence caches nothing (CACHE 1): each nextval()
-- is the next number, under the lock.

CREATE TABLE IF NOT EXISTS litepush_meta (
  -- one row: what readers need to know of the log besides its rows
  id integer PRIMARY KEY CHECK (id = 1),
  -- the schema version of this database
  version integer NOT NULL,
  -- bumped by every DELETE or UPDATE of events
  edits bigint NOT NULL DEFAULT 0,
  -- every id up to this one that ever existed has been pruned
  pruned bigint NOT NULL DEFAULT 0
);
INSERT INTO litepush_meta (id, version) VALUES (1, 3) ON CONFLICT (id) DO NOTHING;

-- The ids: 1 to 2^53 - 1, which JavaScript reads exactly.
CREATE SEQUENCE IF NOT EXISTS events_id_seq
  AS bigint MINVALUE 1 MAXVALUE 9007199254740991 CACHE 1 NO CYCLE;

CREATE TABLE IF NOT EXISTS events (
  -- given by the trigger events_id, in commit order; never reused
  id bigint PRIMARY KEY
    CONSTRAINT id_in_range CHECK (id BETWEEN 1 AND 9007199254740991),
  -- channel: 1..64 of [A-Za-z0-9_.:-]
  channel text NOT NULL DEFAULT 'default'
    CONSTRAINT channel_valid CHECK (channel ~ '^[A-Za-z0-9_.:-]{1,64}$'),
  -- event: the SSE event name, NULL for a message; 1..64 bytes without
  -- CR or LF (PostgreSQL's text holds no NUL)
  event text
    CONSTRAINT event_valid CHECK (event IS NULL OR (
      octet_length(event) BETWEEN 1 AND 64
      AND strpos(event, chr(10)) = 0 AND strpos(event, chr(13)) = 0)),
  -- data: any text, newlines allowed
  data text NOT NULL DEFAULT '',
  -- created: unix time in ms
  created bigint NOT NULL
    DEFAULT floor(extract(epoch FROM clock_timestamp()) * 1000),
  -- sender: who published it, as the server vouches (NULL: unknown);
  -- 1..128 bytes without CR or LF
  sender text
    CONSTRAINT sender_valid CHECK (sender IS NULL OR (
      octet_length(sender) BETWEEN 1 AND 128
      AND strpos(sender, chr(10)) = 0 AND strpos(sender, chr(13)) = 0)),
  -- the protocol's own event names
  CONSTRAINT event_not_reserved CHECK (event IS NULL
    OR event NOT IN ('pause', 'reset'))
);
CREATE INDEX IF NOT EXISTS events_channel_id ON events (channel, id);

-- Gives each row its id under the publishing lock (see the top).  An id
-- given in the INSERT is kept if it is above every id given so far (what
-- `litepush copy` does, in order), and moves the sequence past it.
CREATE OR REPLACE FUNCTION litepush_events_id() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  newest bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(7573604873275617313);
  IF NEW.id IS NULL THEN
    NEW.id := nextval('events_id_seq');
    RETURN NEW;
  END IF;
  -- Out of range: the CHECK id_in_range refuses it, by name.
  IF NEW.id NOT BETWEEN 1 AND 9007199254740991 THEN
    RETURN NEW;
  END IF;
  SELECT CASE WHEN is_called THEN last_value ELSE 0 END INTO newest
    FROM events_id_seq;
  IF NEW.id <= newest THEN
    RAISE EXCEPTION 'new row for relation "events" violates check constraint "id_in_order"'
      USING ERRCODE = 'check_violation',
            DETAIL = format('id %s is not above %s, the newest id given', NEW.id, newest);
  END IF;
  PERFORM setval('events_id_seq', NEW.id);
  RETURN NEW;
END $$;

CREATE OR REPLACE TRIGGER events_id BEFORE INSERT ON events
  FOR EACH ROW EXECUTE FUNCTION litepush_events_id();

-- Wakes the daemons that LISTEN litepush_events, once per statement, at
-- commit (NOTIFY is held until then and dropped on rollback).  A hint:
-- the daemons read the table to learn what changed.
CREATE OR REPLACE FUNCTION litepush_events_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('litepush_events', '');
  RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER events_notify
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION litepush_events_notify();

-- An UPDATE of events is an edit: readers holding the row drop it.
CREATE OR REPLACE FUNCTION litepush_events_edited() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE litepush_meta SET edits = edits + 1;
  RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER events_edited AFTER UPDATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION litepush_events_edited();

-- A DELETE is an edit too, and a prune when it took the oldest rows: then
-- `pruned` moves up to just below the oldest row left (to the newest id
-- given, when none is left).  Deleting rows in the middle (a moderator
-- removing one message) is not a prune.  Once per statement, with the
-- deleted rows as a transition table: one index probe per DELETE, not per
-- row.
CREATE OR REPLACE FUNCTION litepush_events_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE litepush_meta SET edits = edits + 1,
    pruned = CASE
      WHEN EXISTS (SELECT 1 FROM events
                   WHERE id < (SELECT min(id) FROM deleted_rows))
        THEN pruned
      ELSE greatest(pruned, coalesce(
        (SELECT min(id) - 1 FROM events),
        (SELECT CASE WHEN is_called THEN last_value ELSE 0 END
           FROM events_id_seq)))
    END;
  RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER events_deleted AFTER DELETE ON events
  REFERENCING OLD TABLE AS deleted_rows
  FOR EACH STATEMENT EXECUTE FUNCTION litepush_events_deleted();

-- TRUNCATE empties the log at once: a prune of everything given so far.
CREATE OR REPLACE FUNCTION litepush_events_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE litepush_meta SET edits = edits + 1,
    pruned = greatest(pruned, (SELECT CASE WHEN is_called THEN last_value
                                 ELSE 0 END FROM events_id_seq));
  RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER events_truncated AFTER TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION litepush_events_truncated();
