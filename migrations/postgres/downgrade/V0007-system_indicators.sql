-- Undo V0007: drop system_indicators.
DROP TABLE system_indicators;
