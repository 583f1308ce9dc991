-- Undo V0003: drop trading_accounts.
DROP TABLE trading_accounts;
