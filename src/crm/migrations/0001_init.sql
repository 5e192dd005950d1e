-- The CRM and the durable request log. One text for both backends:
-- `ID_PRIMARY_KEY` becomes the backend's auto-increment key. Times are
-- milliseconds since the Unix epoch.

CREATE TABLE customers (
    id ID_PRIMARY_KEY,
    name TEXT,
    responsible TEXT,
    created_at BIGINT NOT NULL
);

-- kind: phone (E.164) | email (lower-case) | chat (source:user)
CREATE TABLE identities (
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    PRIMARY KEY (kind, value)
);
CREATE INDEX identities_by_customer ON identities (customer_id);

-- kind: lead | deal
CREATE TABLE leads (
    id ID_PRIMARY_KEY,
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    origin TEXT NOT NULL,
    request_id BIGINT,
    fields TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX leads_by_customer ON leads (customer_id);

-- origin: chat source, mailbox or form; external_id: chat user, mail sender, form
CREATE TABLE conversations (
    id ID_PRIMARY_KEY,
    channel TEXT NOT NULL,
    origin TEXT NOT NULL,
    external_id TEXT NOT NULL,
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    subject TEXT,
    operator TEXT,
    created_at BIGINT NOT NULL,
    closed_at BIGINT
);
CREATE INDEX conversations_by_peer ON conversations (channel, origin, external_id);

-- direction: in (from the customer) | out (from an operator)
CREATE TABLE messages (
    id ID_PRIMARY_KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    direction TEXT NOT NULL,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX messages_by_conversation ON messages (conversation_id);

-- Message-IDs of a mail thread, for In-Reply-To / References.
CREATE TABLE mail_ids (
    message_id TEXT PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id)
);

-- state: open | closed | missed | abandoned. Open requests are re-offered after a restart.
CREATE TABLE requests (
    id ID_PRIMARY_KEY,
    channel TEXT NOT NULL,
    queue TEXT NOT NULL,
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    conversation_id BIGINT REFERENCES conversations (id),
    waiting_since BIGINT NOT NULL,
    state TEXT NOT NULL,
    operator TEXT,
    direct_to TEXT,
    ended_at BIGINT
);
CREATE INDEX requests_by_state ON requests (state, waiting_since, id);

-- kind: chat | mail | form | call | assigned | transfer | responsible | closed | missed | abandoned
CREATE TABLE activities (
    id ID_PRIMARY_KEY,
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    kind TEXT NOT NULL,
    request_id BIGINT,
    operator TEXT,
    detail TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX activities_by_customer ON activities (customer_id, at);

CREATE TABLE callback_tasks (
    id ID_PRIMARY_KEY,
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    request_id BIGINT,
    operator TEXT,
    reason TEXT NOT NULL,
    recording TEXT,
    created_at BIGINT NOT NULL,
    done_at BIGINT
);

-- Engine state that survives a restart, e.g. `rotation:<queue>` → operator.
CREATE TABLE engine_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
