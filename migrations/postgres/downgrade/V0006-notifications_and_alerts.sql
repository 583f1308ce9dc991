-- Undo V0006: drop email_queue, notifications, then alert_rules.
DROP TABLE email_queue;
DROP TABLE notifications;
DROP TABLE alert_rules;
