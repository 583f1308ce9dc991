-- Words of transaction control inside bodies, strings, names and comments are not statements:
-- BEGIN; COMMIT;
CREATE TABLE teams (id bigint PRIMARY KEY, name text NOT NULL, "commit" text DEFAULT 'BEGIN; END;');
CREATE FUNCTION touch() RETURNS trigger AS $$
BEGIN
  NEW.name = trim(NEW.name);
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE FUNCTION team_count() RETURNS bigint LANGUAGE sql
BEGIN ATOMIC
  SELECT count(*) FROM teams;
END;
DO $body$
BEGIN
  PERFORM 1;
END
$body$;
COMMENT ON TABLE teams IS 'run VACUUM and REINDEX CONCURRENTLY later';
