//! The seam between the store's rules and where its records live. Every module of the store
//! reads and writes through these types only: named tables of byte keys and values (`Table`),
//! read one by one or in key order, and transactions over several tables (`Transactional`)
//! that commit whole or run their closure again.
//!
//! Two backends: sled, embedded, for one process (the default); and etcd (`etcd`), where a
//! table is a key prefix, reads come from a copy of the prefix a watch keeps, and a
//! transaction commits as one etcd transaction comparing the revision of every key it read
//! (run again on a mismatch, as sled runs a conflicting one), so its rules hold across every
//! process that shares the prefix.
//!
//! The backends are an enum in each type, not a trait: they are a closed set known when the
//! console is built, transactions take generic closures (which a trait object cannot), and
//! what each backend does for an operation stands in one match, here.

mod etcd;
pub use etcd::{Listener, Remote, RemoteChange};
#[cfg(test)]
pub(crate) mod tests;

use sled::transaction as st;
use std::fmt;
use std::ops::{Bound, Deref, RangeBounds};
use std::sync::Arc;

/// A key or a record's bytes, as read.
#[derive(Clone)]
pub struct Value(Bytes);

#[derive(Clone)]
enum Bytes {
    Sled(sled::IVec),
    Shared(Arc<[u8]>),
}

impl Value {
    fn bytes(bytes: &[u8]) -> Value {
        Value(Bytes::Shared(bytes.into()))
    }
}

impl Deref for Value {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.0 {
            Bytes::Sled(v) => v,
            Bytes::Shared(v) => v,
        }
    }
}

impl AsRef<[u8]> for Value {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        **self == **other
    }
}

impl Eq for Value {}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

fn sled_pair((k, v): (sled::IVec, sled::IVec)) -> (Value, Value) {
    (Value(Bytes::Sled(k)), Value(Bytes::Sled(v)))
}

fn sled_value(v: sled::IVec) -> Value {
    Value(Bytes::Sled(v))
}

/// The database failed (never a refusal by the store's rules).
#[derive(Debug)]
pub enum StorageError {
    Sled(sled::Error),
    Etcd(String),
    /// etcd did not answer (no member reachable, or not in time): whether a write was made is
    /// not known
    Unavailable(String),
    /// etcd's NOSPACE alarm: it takes no write until space is freed
    NoSpace,
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageError::Sled(e) => fmt::Display::fmt(e, f),
            StorageError::Etcd(e) => write!(f, "etcd: {e}"),
            StorageError::Unavailable(e) => write!(f, "etcd does not answer: {e}"),
            StorageError::NoSpace => write!(f, "etcd is out of space (its NOSPACE alarm)"),
        }
    }
}

impl std::error::Error for StorageError {}

impl From<sled::Error> for StorageError {
    fn from(e: sled::Error) -> StorageError {
        StorageError::Sled(e)
    }
}

pub type Result<T> = std::result::Result<T, StorageError>;

/// A record with its table's name: (table, key, value).
pub type Record = (String, Vec<u8>, Vec<u8>);

/// The database: its tables, and numbers that only grow.
#[derive(Clone)]
pub enum Kv {
    Sled(sled::Db),
    Etcd(Arc<etcd::Etcd>),
}

impl Kv {
    pub fn sled(db: sled::Db) -> Kv {
        Kv::Sled(db)
    }

    /// The keys under `prefix` in the etcd cluster at `endpoints` (`host:port`).
    pub fn etcd(
        endpoints: &[String],
        prefix: &str,
        access: &crate::store::EtcdAccess,
    ) -> Result<Kv> {
        Ok(Kv::Etcd(etcd::Etcd::connect(endpoints, prefix, access)?))
    }

    /// The table of this name (empty if there is none yet).
    pub fn table(&self, name: &str) -> Result<Table> {
        let place = match self {
            Kv::Sled(db) => Place::Sled(db.open_tree(name)?),
            Kv::Etcd(etcd) => {
                etcd.open_table(name);
                Place::Etcd(etcd.clone())
            }
        };
        Ok(Table {
            name: name.into(),
            place,
        })
    }

    /// Every table's name, in order (the backend's own bookkeeping left out).
    pub fn table_names(&self) -> Vec<String> {
        match self {
            Kv::Sled(db) => {
                let mut names: Vec<String> = (db.tree_names().iter())
                    .filter(|n| n.as_ref() != b"__sled__default")
                    .map(|n| String::from_utf8_lossy(n).into_owned())
                    .collect();
                names.sort();
                names
            }
            Kv::Etcd(etcd) => etcd.table_names(),
        }
    }

    /// A number larger than every one given before, also across restarts.
    pub fn generate_id(&self) -> Result<u64> {
        match self {
            Kv::Sled(db) => Ok(db.generate_id()?),
            Kv::Etcd(etcd) => etcd.generate_id(),
        }
    }

    /// Whether the database answers (sled's is in this process; etcd is asked).
    pub fn reachable(&self) -> Result<()> {
        match self {
            Kv::Sled(_) => Ok(()),
            Kv::Etcd(etcd) => etcd.reachable(),
        }
    }

    /// Every table's records as (table, key, value), in order: on etcd as of one revision;
    /// on sled as read table by table (the caller holds changes back).
    pub fn snapshot(&self) -> Result<Vec<Record>> {
        match self {
            Kv::Etcd(etcd) => Ok(etcd.snapshot()),
            Kv::Sled(_) => {
                let mut all = Vec::new();
                for name in self.table_names() {
                    for record in self.table(&name)?.iter() {
                        let (key, value) = record?;
                        all.push((name.clone(), key.to_vec(), value.to_vec()));
                    }
                }
                Ok(all)
            }
        }
    }

    /// Writes a record that lives as long as this process: on etcd, on its lease, so that
    /// the others see it go when the process does; on sled (one process) nothing is written.
    pub fn put_leased(&self, table: &str, key: &[u8], value: &[u8]) -> Result<()> {
        match self {
            Kv::Sled(_) => Ok(()),
            Kv::Etcd(etcd) => etcd.put_leased(etcd.table_key(table, key), value.to_vec()),
        }
    }

    /// Who hears of the records other processes change (sled has no other processes).
    pub fn on_remote(&self, listener: Listener) {
        if let Kv::Etcd(etcd) = self {
            etcd.on_remote(listener);
        }
    }

    /// Waits until this process reads everything committed before the call, by any process
    /// (sled: at once).
    pub fn catch_up(&self) -> Result<()> {
        match self {
            Kv::Sled(_) => Ok(()),
            Kv::Etcd(etcd) => etcd.catch_up(),
        }
    }

    /// Whether this process leads the processes on its database, as it changes: each call
    /// campaigns anew, so call it once (sled has one process, which leads).
    pub fn lead(&self) -> tokio::sync::watch::Receiver<bool> {
        match self {
            Kv::Sled(_) => tokio::sync::watch::channel(true).1,
            Kv::Etcd(etcd) => etcd.lead(),
        }
    }

    /// Makes every write so far durable (blocking; etcd's are when they return).
    /// Writes whose answer was lost since start: (found made, found not made and sent again).
    /// Only etcd loses answers.
    pub fn lost_answers(&self) -> (u64, u64) {
        match self {
            Kv::Sled(_) => (0, 0),
            Kv::Etcd(etcd) => etcd.lost_answers(),
        }
    }

    pub fn flush(&self) -> Result<()> {
        if let Kv::Sled(db) = self {
            db.flush()?;
        }
        Ok(())
    }
}

/// One named table of records in key order.
#[derive(Clone)]
pub struct Table {
    name: String,
    place: Place,
}

#[derive(Clone)]
enum Place {
    Sled(sled::Tree),
    Etcd(Arc<etcd::Etcd>),
}

impl Table {
    pub fn name(&self) -> &str {
        &self.name
    }

    fn etcd_key(&self, etcd: &etcd::Etcd, key: &[u8]) -> Vec<u8> {
        etcd.table_key(&self.name, key)
    }

    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Value>> {
        match &self.place {
            Place::Sled(tree) => Ok(tree.get(key)?.map(sled_value)),
            Place::Etcd(etcd) => Ok(etcd.get(&self.etcd_key(etcd, key.as_ref()))),
        }
    }

    pub fn contains_key(&self, key: impl AsRef<[u8]>) -> Result<bool> {
        Ok(self.get(key)?.is_some())
    }

    /// Writes the record; returns the one it replaced.
    pub fn insert(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<Option<Value>> {
        match &self.place {
            Place::Sled(tree) => {
                let value = sled::IVec::from(value.as_ref());
                Ok(tree.insert(key, value)?.map(sled_value))
            }
            Place::Etcd(etcd) => {
                let full = self.etcd_key(etcd, key.as_ref());
                let value = value.as_ref().to_vec();
                etcd.transaction(|tx| Ok::<_, Abort<()>>(tx.set(full.clone(), Some(value.clone()))))
                    .map_err(storage)
            }
        }
    }

    /// Removes the record; returns it.
    pub fn remove(&self, key: impl AsRef<[u8]>) -> Result<Option<Value>> {
        match &self.place {
            Place::Sled(tree) => Ok(tree.remove(key)?.map(sled_value)),
            Place::Etcd(etcd) => {
                let full = self.etcd_key(etcd, key.as_ref());
                etcd.transaction(|tx| Ok::<_, Abort<()>>(tx.set(full.clone(), None)))
                    .map_err(storage)
            }
        }
    }

    /// Removes every record whose value `ended` says is over (each only if it is still that
    /// value when removed: a record written again meanwhile stays); how many.
    pub fn remove_ended(&self, ended: impl Fn(&[u8]) -> bool) -> Result<usize> {
        let mut removed = 0;
        for entry in self.iter() {
            let (key, value) = entry?;
            if ended(&value) && self.remove_if(&key, &value)? {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Removes the record only if it still is `expected`; false if it was not.
    pub fn remove_if(&self, key: impl AsRef<[u8]>, expected: &[u8]) -> Result<bool> {
        match &self.place {
            Place::Sled(tree) => {
                let swapped = tree.compare_and_swap(key, Some(expected), None::<&[u8]>)?;
                Ok(swapped.is_ok())
            }
            Place::Etcd(etcd) => {
                let full = self.etcd_key(etcd, key.as_ref());
                etcd.transaction(|tx| {
                    let same = tx.get(full.clone()).is_some_and(|v| *v == *expected);
                    if same {
                        tx.set(full.clone(), None);
                    }
                    Ok::<_, Abort<()>>(same)
                })
                .map_err(storage)
            }
        }
    }

    /// The record with the smallest key.
    pub fn first(&self) -> Result<Option<(Value, Value)>> {
        self.iter().next().transpose()
    }

    /// Removes and returns the record with the smallest key.
    pub fn pop_min(&self) -> Result<Option<(Value, Value)>> {
        match &self.place {
            Place::Sled(tree) => Ok(tree.pop_min()?.map(sled_pair)),
            Place::Etcd(etcd) => etcd
                .transaction(|tx| {
                    let Some((key, _)) = self
                        .iter()
                        .next()
                        .transpose()
                        .map_err(|_| Abort::Abort(()))?
                    else {
                        return Ok(None);
                    };
                    let full = self.etcd_key(etcd, &key);
                    Ok(tx.set(full, None).map(|value| (key, value)))
                })
                .map_err(storage),
        }
    }

    /// Writes and removes several records at once: all or none (on etcd, up to 128 at once).
    pub fn apply_batch(&self, batch: Batch) -> Result<()> {
        match &self.place {
            Place::Sled(tree) => {
                let mut sled_batch = sled::Batch::default();
                for (key, value) in batch.0 {
                    match value {
                        Some(value) => sled_batch.insert(key, value),
                        None => sled_batch.remove(key),
                    }
                }
                Ok(tree.apply_batch(sled_batch)?)
            }
            Place::Etcd(etcd) => {
                let writes = (batch.0.into_iter())
                    .map(|(k, v)| (self.etcd_key(etcd, &k), v))
                    .collect();
                etcd.write(writes)
            }
        }
    }

    /// Removes every record.
    pub fn clear(&self) -> Result<()> {
        match &self.place {
            Place::Sled(tree) => Ok(tree.clear()?),
            Place::Etcd(etcd) => {
                let from = self.etcd_key(etcd, b"");
                let mut to = from.clone();
                *to.last_mut().expect("a table's keys end with /") += 1;
                etcd.remove_range(from, to)
            }
        }
    }

    /// Makes this table's writes so far durable (blocking; etcd's are when they return).
    pub fn flush(&self) -> Result<()> {
        if let Place::Sled(tree) = &self.place {
            tree.flush()?;
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        match &self.place {
            Place::Sled(tree) => tree.len(),
            Place::Etcd(etcd) => {
                let from = self.etcd_key(etcd, b"");
                let to = next_prefix(&from);
                etcd.count(Bound::Included(from), to)
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every record, in key order.
    pub fn iter(&self) -> Iter {
        match &self.place {
            Place::Sled(tree) => Iter::Sled(Box::new(tree.iter())),
            Place::Etcd(_) => self.range::<&[u8], _>(..),
        }
    }

    /// The records whose keys start with `prefix`, in key order.
    pub fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> Iter {
        match &self.place {
            Place::Sled(tree) => Iter::Sled(Box::new(tree.scan_prefix(prefix))),
            Place::Etcd(etcd) => {
                let from = self.etcd_key(etcd, prefix.as_ref());
                let to = next_prefix(&from);
                let skip = self.etcd_key(etcd, b"").len();
                Iter::Copied(etcd.range(Bound::Included(from), to, skip).into_iter())
            }
        }
    }

    /// The records whose keys are in `range`, in key order.
    pub fn range<K: AsRef<[u8]>, R: RangeBounds<K>>(&self, range: R) -> Iter {
        match &self.place {
            Place::Sled(tree) => Iter::Sled(Box::new(tree.range(range))),
            Place::Etcd(etcd) => {
                let full = |k: &K| self.etcd_key(etcd, k.as_ref());
                let from = match range.start_bound() {
                    Bound::Included(k) => Bound::Included(full(k)),
                    Bound::Excluded(k) => Bound::Excluded(full(k)),
                    Bound::Unbounded => Bound::Included(self.etcd_key(etcd, b"")),
                };
                let to = match range.end_bound() {
                    Bound::Included(k) => Bound::Included(full(k)),
                    Bound::Excluded(k) => Bound::Excluded(full(k)),
                    Bound::Unbounded => next_prefix(&self.etcd_key(etcd, b"")),
                };
                let skip = self.etcd_key(etcd, b"").len();
                Iter::Copied(etcd.range(from, to, skip).into_iter())
            }
        }
    }
}

/// The end of the keys that start with `prefix` (exclusive).
fn next_prefix(prefix: &[u8]) -> Bound<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Bound::Excluded(end);
        }
    }
    Bound::Unbounded
}

fn storage(e: TxError<()>) -> StorageError {
    match e {
        TxError::Storage(e) => e,
        TxError::Abort(()) => StorageError::Etcd("a write was abandoned".into()),
    }
}

/// Records to write (`Some`) and remove (`None`) together.
#[derive(Default)]
pub struct Batch(Vec<(Vec<u8>, Option<Vec<u8>>)>);

impl Batch {
    pub fn insert(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
        (self.0).push((key.as_ref().to_vec(), Some(value.as_ref().to_vec())));
    }

    pub fn remove(&mut self, key: impl AsRef<[u8]>) {
        self.0.push((key.as_ref().to_vec(), None));
    }
}

/// Records in key order (either way): sled's read as the iteration goes, etcd's a copy.
pub enum Iter {
    Sled(Box<sled::Iter>),
    Copied(std::vec::IntoIter<(Value, Value)>),
}

impl Iterator for Iter {
    type Item = Result<(Value, Value)>;
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Sled(i) => Some(i.next()?.map(sled_pair).map_err(StorageError::Sled)),
            Iter::Copied(i) => i.next().map(Ok),
        }
    }
}

impl DoubleEndedIterator for Iter {
    fn next_back(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Sled(i) => Some(i.next_back()?.map(sled_pair).map_err(StorageError::Sled)),
            Iter::Copied(i) => i.next_back().map(Ok),
        }
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
pub struct TxTable<'a>(TxPlace<'a>);

enum TxPlace<'a> {
    Sled(&'a st::TransactionalTree),
    Etcd(&'a etcd::EtcdTx<'a>, &'a Table),
}

/// A read or write inside a transaction failed; `?` turns it into `Abort`, and the
/// transaction then runs again (a conflict) or fails (the database).
#[derive(Debug)]
pub struct TxFailed(st::UnabortableTransactionError);

impl From<TxFailed> for StorageError {
    fn from(f: TxFailed) -> StorageError {
        match f.0 {
            st::UnabortableTransactionError::Storage(e) => StorageError::Sled(e),
            st::UnabortableTransactionError::Conflict => {
                StorageError::Etcd("a conflict outside a transaction".into())
            }
        }
    }
}

impl<'a> TxTable<'a> {
    fn etcd_key(table: &Table, key: &[u8]) -> Vec<u8> {
        match &table.place {
            Place::Etcd(etcd) => table.etcd_key(etcd, key),
            Place::Sled(_) => unreachable!("a transaction over tables of one database"),
        }
    }

    pub fn get(&self, key: impl AsRef<[u8]>) -> std::result::Result<Option<Value>, TxFailed> {
        match &self.0 {
            TxPlace::Sled(t) => Ok(t.get(key).map_err(TxFailed)?.map(sled_value)),
            TxPlace::Etcd(tx, table) => Ok(tx.get(Self::etcd_key(table, key.as_ref()))),
        }
    }

    pub fn insert(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) -> std::result::Result<Option<Value>, TxFailed> {
        match &self.0 {
            TxPlace::Sled(t) => {
                let value = sled::IVec::from(value.as_ref());
                Ok(t.insert(key.as_ref(), value)
                    .map_err(TxFailed)?
                    .map(sled_value))
            }
            TxPlace::Etcd(tx, table) => {
                let full = Self::etcd_key(table, key.as_ref());
                Ok(tx.set(full, Some(value.as_ref().to_vec())))
            }
        }
    }

    pub fn remove(&self, key: impl AsRef<[u8]>) -> std::result::Result<Option<Value>, TxFailed> {
        match &self.0 {
            TxPlace::Sled(t) => Ok(t.remove(key.as_ref()).map_err(TxFailed)?.map(sled_value)),
            TxPlace::Etcd(tx, table) => Ok(tx.set(Self::etcd_key(table, key.as_ref()), None)),
        }
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
        st::TransactionError::Storage(e) => TxError::Storage(StorageError::Sled(e)),
    }
}

/// Tables that take part in one transaction together: a tuple of `&Table` of one database.
/// The closure sees the same tuple of `TxTable`s; it may run more than once (after a
/// conflict), so it only reads and writes through them.
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
                match &self.0.place {
                    Place::Sled(_) => {
                        let trees = ($(sled_tree(self.$n),)+);
                        st::Transactional::transaction(&trees, |sled_view| {
                            let view = ($(TxTable(TxPlace::Sled(&sled_view.$n)),)+);
                            f(&view).map_err(to_sled)
                        })
                        .map_err(from_sled)
                    }
                    Place::Etcd(etcd) => etcd.transaction(|tx| {
                        let view = ($(TxTable(TxPlace::Etcd(tx, self.$n)),)+);
                        f(&view)
                    }),
                }
            }
        }
    };
    (@view $t:ident) => { TxTable<'a> };
    (@table $t:ident) => { &Table };
}

/// A sled table's tree (a transaction's tables are all of one database).
fn sled_tree(table: &Table) -> &sled::Tree {
    match &table.place {
        Place::Sled(tree) => tree,
        Place::Etcd(_) => unreachable!("a transaction over tables of one database"),
    }
}

transactional!(A 0);
transactional!(A 0, B 1);
transactional!(A 0, B 1, C 2);
transactional!(A 0, B 1, C 2, D 3);
transactional!(A 0, B 1, C 2, D 3, E 4);
transactional!(A 0, B 1, C 2, D 3, E 4, F 5);
transactional!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
