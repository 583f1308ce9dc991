/* users of the platform
CREATE TABLE users (id bigint);
