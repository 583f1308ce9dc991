-- Undo V0005: drop subscriptions.
DROP TABLE subscriptions;
