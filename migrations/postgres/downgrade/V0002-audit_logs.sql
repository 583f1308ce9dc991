-- Undo V0002: drop audit_logs.
DROP TABLE audit_logs;
