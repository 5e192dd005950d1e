//! Migrations embedded in the binary, one SQL text for both backends; the
//! only dialect difference (the auto-increment key) is filled in here.

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationSource, MigrationType};

/// (version, description, SQL with `ID_PRIMARY_KEY`), in order. Never edit a
/// released one: add the next.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("migrations/0001_init.sql")),
    (2, "mail id order", include_str!("migrations/0002_mail_id_order.sql")),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// The embedded migrations written for one backend.
#[derive(Debug)]
pub struct Embedded(pub Dialect);

impl<'s> MigrationSource<'s> for Embedded {
    fn resolve(
        self,
    ) -> futures_util::future::BoxFuture<'s, Result<Vec<Migration>, Box<dyn std::error::Error + Send + Sync>>> {
        let key = match self.0 {
            Dialect::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
            Dialect::Postgres => "BIGSERIAL PRIMARY KEY",
        };
        let migrations = MIGRATIONS
            .iter()
            .map(|(version, description, sql)| {
                Migration::new(
                    *version,
                    Cow::Borrowed(*description),
                    MigrationType::Simple,
                    Cow::Owned(sql.replace("ID_PRIMARY_KEY", key)),
                    false,
                )
            })
            .collect();
        Box::pin(async move { Ok(migrations) })
    }
}
