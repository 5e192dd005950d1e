//! One way to run a statement, whichever database is behind it: a `Query`
//! (SQL with `$1`, `$2`… and its arguments) runs on anything that is `Db` —
//! a PostgreSQL transaction through sqlx, or the SQLite connection owned by
//! the store's SQLite thread (`sqlite.rs`, through rusqlite). The store's
//! queries are written once, against this.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use crate::crm::store::StoreError;

pub(super) type DbFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// An argument of a statement, borrowed where it can be (a statement runs
/// before the values it reads go away). Nulls keep their type: PostgreSQL
/// checks it.
#[derive(Clone, Debug)]
pub(super) enum Arg<'q> {
    Int(Option<i64>),
    Text(Option<Cow<'q, str>>),
}

/// A column of a row that came back.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

/// Runs statements: a transaction's connection.
pub(super) trait Db: Send {
    /// Runs the statement; returns the rows it produced (when `rows` is
    /// wanted) and how many rows it changed (when not).
    fn run<'a>(&'a mut self, query: &'a Query<'a>, rows: Want) -> DbFuture<'a, (Vec<Row>, u64)>;

    /// Runs an INSERT of one row into a table with an `id` key; the new
    /// row's id. (SQLite reads its last rowid: `RETURNING` would buffer the
    /// row in a temporary b-tree first.)
    fn insert<'a>(&'a mut self, query: &'a Query<'a>) -> DbFuture<'a, i64>;
}

/// What a caller wants back from a statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Want {
    Rows,
    Changes,
}

pub(super) struct Query<'q> {
    pub(super) sql: Cow<'static, str>,
    pub(super) args: Vec<Arg<'q>>,
}

pub(super) fn query<'q>(sql: impl Into<Cow<'static, str>>) -> Query<'q> {
    Query {
        sql: sql.into(),
        args: Vec::new(),
    }
}

impl<'q> Query<'q> {
    pub(super) fn bind(mut self, arg: impl IntoArg<'q>) -> Query<'q> {
        self.args.push(arg.into_arg());
        self
    }

    /// Runs it; how many rows it changed.
    pub(super) async fn execute(self, db: &mut dyn Db) -> Result<u64, StoreError> {
        Ok(db.run(&self, Want::Changes).await?.1)
    }

    /// Runs an INSERT of one row (written without `RETURNING`); its id.
    pub(super) async fn insert_id(self, db: &mut dyn Db) -> Result<i64, StoreError> {
        db.insert(&self).await
    }

    pub(super) async fn fetch_all(self, db: &mut dyn Db) -> Result<Vec<Row>, StoreError> {
        Ok(db.run(&self, Want::Rows).await?.0)
    }

    pub(super) async fn fetch_optional(self, db: &mut dyn Db) -> Result<Option<Row>, StoreError> {
        Ok(db.run(&self, Want::Rows).await?.0.into_iter().next())
    }

    pub(super) async fn fetch_one(self, db: &mut dyn Db) -> Result<Row, StoreError> {
        let sql = self.sql.clone();
        self.fetch_optional(db)
            .await?
            .ok_or_else(|| StoreError::Invalid(format!("no row came back from: {sql}")))
    }
}

#[derive(Clone, Debug, Default)]
pub(super) struct Row(pub(super) Vec<Value>);

impl Row {
    pub(super) fn try_get<T: FromValue>(&self, column: usize) -> Result<T, StoreError> {
        let value = self
            .0
            .get(column)
            .ok_or_else(|| StoreError::Invalid(format!("no column {column} in the row")))?;
        T::from_value(value).ok_or_else(|| {
            StoreError::Invalid(format!(
                "column {column} holds {value:?}, not {}",
                std::any::type_name::<T>()
            ))
        })
    }
}

pub(super) trait IntoArg<'q> {
    fn into_arg(self) -> Arg<'q>;
}

impl<'q> IntoArg<'q> for i64 {
    fn into_arg(self) -> Arg<'q> {
        Arg::Int(Some(self))
    }
}

impl<'q> IntoArg<'q> for Option<i64> {
    fn into_arg(self) -> Arg<'q> {
        Arg::Int(self)
    }
}

impl<'q> IntoArg<'q> for String {
    fn into_arg(self) -> Arg<'q> {
        Arg::Text(Some(Cow::Owned(self)))
    }
}

impl<'q> IntoArg<'q> for &'q String {
    fn into_arg(self) -> Arg<'q> {
        Arg::Text(Some(Cow::Borrowed(self)))
    }
}

impl<'q> IntoArg<'q> for &'q str {
    fn into_arg(self) -> Arg<'q> {
        Arg::Text(Some(Cow::Borrowed(self)))
    }
}

impl<'q> IntoArg<'q> for Option<&'q str> {
    fn into_arg(self) -> Arg<'q> {
        Arg::Text(self.map(Cow::Borrowed))
    }
}

impl<'q> IntoArg<'q> for Option<String> {
    fn into_arg(self) -> Arg<'q> {
        Arg::Text(self.map(Cow::Owned))
    }
}

pub(super) trait FromValue: Sized {
    fn from_value(value: &Value) -> Option<Self>;
}

impl FromValue for i64 {
    fn from_value(value: &Value) -> Option<i64> {
        match value {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
}

impl FromValue for String {
    fn from_value(value: &Value) -> Option<String> {
        match value {
            Value::Text(text) => Some(text.clone()),
            _ => None,
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Option<Option<T>> {
        match value {
            Value::Null => Some(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// PostgreSQL (and any sqlx connection): the statement through sqlx.
impl Db for sqlx::AnyConnection {
    fn run<'a>(&'a mut self, query: &'a Query<'a>, want: Want) -> DbFuture<'a, (Vec<Row>, u64)> {
        Box::pin(async move {
            let mut statement = sqlx::query(&query.sql);
            for arg in &query.args {
                statement = match arg {
                    Arg::Int(i) => statement.bind(*i),
                    Arg::Text(text) => statement.bind(text.as_deref().map(str::to_string)),
                };
            }
            Ok(match want {
                Want::Rows => {
                    let rows = statement.fetch_all(&mut *self).await?;
                    (rows.iter().map(from_any_row).collect::<Result<_, _>>()?, 0)
                }
                Want::Changes => (Vec::new(), statement.execute(&mut *self).await?.rows_affected()),
            })
        })
    }

    fn insert<'a>(&'a mut self, query: &'a Query<'a>) -> DbFuture<'a, i64> {
        Box::pin(async move {
            let returning = Query {
                sql: format!("{} RETURNING id", query.sql).into(),
                args: query.args.clone(),
            };
            let (rows, _) = self.run(&returning, Want::Rows).await?;
            rows.first()
                .ok_or_else(|| StoreError::Invalid(format!("no id came back from: {}", query.sql)))?
                .try_get(0)
        })
    }
}

fn from_any_row(row: &sqlx::any::AnyRow) -> Result<Row, StoreError> {
    use sqlx::any::AnyTypeInfoKind as Kind;
    use sqlx::{Row as _, ValueRef};
    let mut values = Vec::with_capacity(row.len());
    for column in 0..row.len() {
        let raw = row.try_get_raw(column)?;
        let value = if raw.is_null() {
            Value::Null
        } else {
            match raw.type_info().kind() {
                Kind::Null => Value::Null,
                Kind::Bool => Value::Int(i64::from(row.try_get::<bool, _>(column)?)),
                Kind::SmallInt | Kind::Integer | Kind::BigInt => Value::Int(row.try_get(column)?),
                Kind::Real | Kind::Double => Value::Real(row.try_get(column)?),
                Kind::Text => Value::Text(row.try_get(column)?),
                Kind::Blob => Value::Text(String::from_utf8_lossy(&row.try_get::<Vec<u8>, _>(column)?).into_owned()),
            }
        };
        values.push(value);
    }
    Ok(Row(values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_gives_its_columns_in_the_wanted_type() {
        let row = Row(vec![Value::Int(7), Value::Null, Value::Text("a".into())]);
        assert_eq!(row.try_get::<i64>(0).unwrap(), 7);
        assert_eq!(row.try_get::<Option<i64>>(1).unwrap(), None);
        assert_eq!(row.try_get::<Option<String>>(2).unwrap().as_deref(), Some("a"));
        assert!(row.try_get::<i64>(1).is_err(), "a null is no number");
        assert!(row.try_get::<String>(0).is_err(), "a number is no text");
        assert!(row.try_get::<i64>(3).is_err(), "there is no fourth column");
    }
}
