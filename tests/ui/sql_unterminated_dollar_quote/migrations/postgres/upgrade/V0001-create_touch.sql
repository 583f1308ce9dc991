CREATE FUNCTION touch() RETURNS trigger AS $body$
BEGIN
    NEW.updated_at = now();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
