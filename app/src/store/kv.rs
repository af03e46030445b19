//! The seam between the store's rules and where its records live. Every module of the store
//! reads and writes through these types only: named tables of byte keys and values (`Table`),
//! read one by one or in key order, and transactions over several tables (`Transactional`)
//! that commit whole or run their closure again.
//!
//! One backend today: sled, embedded, for one process. The etcd backend goes behind the same
//! types: a table is a key prefix; reads come from a copy of the prefix kept by a watch; a
//! transaction's closure runs on that copy and commits as one etcd transaction comparing the
//! revision of every key it read (run again on a mismatch, as sled runs a conflicting one).
//!
//! The backends are an enum in each type, not a trait: they are a closed set known when the
//! console is built, transactions take generic closures (which a trait object cannot), and
//! what each backend does for an operation stands in one match, here.

use sled::transaction as st;
use std::fmt;
use std::ops::{Deref, RangeBounds};

/// A key or a record's bytes, as read.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Value(sled::IVec);

impl Deref for Value {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for Value {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// The database failed (never a refusal by the store's rules).
#[derive(Debug)]
pub struct StorageError(sled::Error);

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for StorageError {}

impl From<sled::Error> for StorageError {
    fn from(e: sled::Error) -> StorageError {
        StorageError(e)
    }
}

pub type Result<T> = std::result::Result<T, StorageError>;

/// The database: its tables, and numbers that only grow.
#[derive(Clone)]
pub struct Kv {
    db: sled::Db,
}

impl Kv {
    pub fn sled(db: sled::Db) -> Kv {
        Kv { db }
    }

    /// The table of this name (made empty if there is none).
    pub fn table(&self, name: &str) -> Result<Table> {
        Ok(Table {
            name: name.into(),
            tree: self.db.open_tree(name)?,
        })
    }

    /// Every table's name, in order (the backend's own bookkeeping left out).
    pub fn table_names(&self) -> Vec<String> {
        let mut names: Vec<String> = (self.db.tree_names().iter())
            .filter(|n| n.as_ref() != b"__sled__default")
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect();
        names.sort();
        names
    }

    /// A number larger than every one given before, also across restarts.
    pub fn generate_id(&self) -> Result<u64> {
        Ok(self.db.generate_id()?)
    }

    /// Makes every write so far durable (blocking).
    pub fn flush(&self) -> Result<()> {
        self.db.flush()?;
        Ok(())
    }
}

/// One named table of records in key order.
#[derive(Clone)]
pub struct Table {
    name: String,
    tree: sled::Tree,
}

impl Table {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Value>> {
        Ok(self.tree.get(key)?.map(Value))
    }

    pub fn contains_key(&self, key: impl AsRef<[u8]>) -> Result<bool> {
        Ok(self.tree.contains_key(key)?)
    }

    /// Writes the record; returns the one it replaced.
    pub fn insert(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<Option<Value>> {
        let value = sled::IVec::from(value.as_ref());
        Ok(self.tree.insert(key, value)?.map(Value))
    }

    /// Removes the record; returns it.
    pub fn remove(&self, key: impl AsRef<[u8]>) -> Result<Option<Value>> {
        Ok(self.tree.remove(key)?.map(Value))
    }

    /// Removes the record only if it still is `expected`; false if it was not.
    pub fn remove_if(&self, key: impl AsRef<[u8]>, expected: &[u8]) -> Result<bool> {
        let swapped = self
            .tree
            .compare_and_swap(key, Some(expected), None::<&[u8]>)?;
        Ok(swapped.is_ok())
    }

    /// The record with the smallest key.
    pub fn first(&self) -> Result<Option<(Value, Value)>> {
        Ok(self.tree.first()?.map(|(k, v)| (Value(k), Value(v))))
    }

    /// Removes and returns the record with the smallest key.
    pub fn pop_min(&self) -> Result<Option<(Value, Value)>> {
        Ok(self.tree.pop_min()?.map(|(k, v)| (Value(k), Value(v))))
    }

    /// Writes and removes several records at once: all or none.
    pub fn apply_batch(&self, batch: Batch) -> Result<()> {
        let mut sled_batch = sled::Batch::default();
        for (key, value) in batch.0 {
            match value {
                Some(value) => sled_batch.insert(key, value),
                None => sled_batch.remove(key),
            }
        }
        Ok(self.tree.apply_batch(sled_batch)?)
    }

    /// Removes every record.
    pub fn clear(&self) -> Result<()> {
        Ok(self.tree.clear()?)
    }

    /// Makes this table's writes so far durable (blocking).
    pub fn flush(&self) -> Result<()> {
        self.tree.flush()?;
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.tree.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    /// Every record, in key order.
    pub fn iter(&self) -> Iter {
        Iter(self.tree.iter())
    }

    /// The records whose keys start with `prefix`, in key order.
    pub fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> Iter {
        Iter(self.tree.scan_prefix(prefix))
    }

    /// The records whose keys are in `range`, in key order.
    pub fn range<K: AsRef<[u8]>, R: RangeBounds<K>>(&self, range: R) -> Iter {
        Iter(self.tree.range(range))
    }
}

/// Records to write (`Some`) and remove (`None`) together.
#[derive(Default)]
pub struct Batch(Vec<(Vec<u8>, Option<Vec<u8>>)>);

impl Batch {
    pub fn insert(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
        self.0
            .push((key.as_ref().to_vec(), Some(value.as_ref().to_vec())));
    }

    pub fn remove(&mut self, key: impl AsRef<[u8]>) {
        self.0.push((key.as_ref().to_vec(), None));
    }
}

/// Records in key order (either way), read as the iteration goes.
pub struct Iter(sled::Iter);

impl Iterator for Iter {
    type Item = Result<(Value, Value)>;
    fn next(&mut self) -> Option<Self::Item> {
        Some(
            self.0
                .next()?
                .map(|(k, v)| (Value(k), Value(v)))
                .map_err(StorageError),
        )
    }
}

impl DoubleEndedIterator for Iter {
    fn next_back(&mut self) -> Option<Self::Item> {
        Some(
            self.0
                .next_back()?
                .map(|(k, v)| (Value(k), Value(v)))
                .map_err(StorageError),
        )
    }
}

impl Iter {
    pub fn keys(self) -> impl DoubleEndedIterator<Item = Result<Value>> {
        self.map(|r| r.map(|(k, _)| k))
    }

    pub fn values(self) -> impl DoubleEndedIterator<Item = Result<Value>> {
        self.map(|r| r.map(|(_, v)| v))
    }
}

/// A table inside a transaction: what it reads and writes commits with the rest, or not at all.
pub struct TxTable<'a>(&'a st::TransactionalTree);

/// A read or write inside a transaction failed; `?` turns it into `Abort`, and the
/// transaction then runs again (a conflict) or fails (the database).
#[derive(Debug)]
pub struct TxFailed(st::UnabortableTransactionError);

impl<'a> TxTable<'a> {
    pub fn get(&self, key: impl AsRef<[u8]>) -> std::result::Result<Option<Value>, TxFailed> {
        Ok(self.0.get(key).map_err(TxFailed)?.map(Value))
    }

    pub fn insert(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) -> std::result::Result<Option<Value>, TxFailed> {
        let value = sled::IVec::from(value.as_ref());
        Ok(self
            .0
            .insert(key.as_ref(), value)
            .map_err(TxFailed)?
            .map(Value))
    }

    pub fn remove(&self, key: impl AsRef<[u8]>) -> std::result::Result<Option<Value>, TxFailed> {
        Ok(self.0.remove(key.as_ref()).map_err(TxFailed)?.map(Value))
    }
}

/// How a transaction's closure stops early: its own refusal (`Abort`), or a failed read or
/// write (`Failed`, from `?`).
#[derive(Debug)]
pub enum Abort<E> {
    Abort(E),
    Failed(TxFailed),
}

impl<E> From<TxFailed> for Abort<E> {
    fn from(e: TxFailed) -> Abort<E> {
        Abort::Failed(e)
    }
}

/// A transaction that did not commit: refused by its closure, or the database failed.
#[derive(Debug)]
pub enum TxError<E> {
    Abort(E),
    Storage(StorageError),
}

fn to_sled<E>(abort: Abort<E>) -> st::ConflictableTransactionError<E> {
    match abort {
        Abort::Abort(e) => st::ConflictableTransactionError::Abort(e),
        Abort::Failed(TxFailed(st::UnabortableTransactionError::Conflict)) => {
            st::ConflictableTransactionError::Conflict
        }
        Abort::Failed(TxFailed(st::UnabortableTransactionError::Storage(e))) => {
            st::ConflictableTransactionError::Storage(e)
        }
    }
}

fn from_sled<E>(e: st::TransactionError<E>) -> TxError<E> {
    match e {
        st::TransactionError::Abort(e) => TxError::Abort(e),
        st::TransactionError::Storage(e) => TxError::Storage(StorageError(e)),
    }
}

/// Tables that take part in one transaction together: a tuple of `&Table`. The closure sees
/// the same tuple of `TxTable`s; it may run more than once (after a conflict), so it only
/// reads and writes through them.
pub trait Transactional {
    type View<'a>;
    fn transaction<R, E>(
        &self,
        f: impl Fn(&Self::View<'_>) -> std::result::Result<R, Abort<E>>,
    ) -> std::result::Result<R, TxError<E>>;
}

macro_rules! transactional {
    ($($t:ident $n:tt),+) => {
        impl Transactional for ($(transactional!(@table $t),)+) {
            type View<'a> = ($(transactional!(@view $t),)+);
            fn transaction<R, E>(
                &self,
                f: impl Fn(&Self::View<'_>) -> std::result::Result<R, Abort<E>>,
            ) -> std::result::Result<R, TxError<E>> {
                let trees = ($(&self.$n.tree,)+);
                st::Transactional::transaction(&trees, |sled_view| {
                    let view = ($(TxTable(&sled_view.$n),)+);
                    f(&view).map_err(to_sled)
                })
                .map_err(from_sled)
            }
        }
    };
    (@view $t:ident) => { TxTable<'a> };
    (@table $t:ident) => { &Table };
}

transactional!(A 0, B 1);
transactional!(A 0, B 1, C 2);
transactional!(A 0, B 1, C 2, D 3);
transactional!(A 0, B 1, C 2, D 3, E 4);
