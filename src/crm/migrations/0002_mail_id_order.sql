-- When each Message-ID of a thread was seen, so replies can name the latest.
ALTER TABLE mail_ids ADD COLUMN seen_at BIGINT NOT NULL DEFAULT 0;
