-- Undo V0001: drop user_permissions, api_keys, user_sessions, then users.
DROP TABLE user_permissions;
DROP TABLE api_keys;
DROP TABLE user_sessions;
DROP TABLE users;
