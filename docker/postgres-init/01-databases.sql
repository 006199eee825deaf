-- One database per service; each service owns its schema and migrates it at start-up.
-- Runs once, when the postgres container initialises an empty data volume.
CREATE DATABASE passhub_recruitment;
CREATE DATABASE passhub_sessions;
CREATE DATABASE passhub_attendance;
CREATE DATABASE passhub_recognition;
