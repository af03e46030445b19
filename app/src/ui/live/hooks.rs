//! The page's data hooks that follow the live channel: what each shows, and what it does with
//! a change. In the browser only (the server renders a page once).

use crate::api::live::{About, Interest, PageMessage};
use crate::domain::list_changes::RowChange;
use std::cell::RefCell;
use std::rc::Rc;

type OnChange = Rc<dyn Fn(&About, Option<&RowChange>)>;

#[derive(Default)]
struct Hooks {
    next: u64,
    all: Vec<(u64, Interest, OnChange)>,
    /// tells the channel to send the new `Watch`
    changed: Option<futures::channel::mpsc::UnboundedSender<()>>,
}

thread_local! {
    static HOOKS: RefCell<Hooks> = RefCell::default();
}

/// Where the channel hears that what the page shows changed (once per page load).
pub fn changes() -> futures::channel::mpsc::UnboundedReceiver<()> {
    let (tx, rx) = futures::channel::mpsc::unbounded();
    HOOKS.with(|h| h.borrow_mut().changed = Some(tx));
    rx
}

fn changed(hooks: &Hooks) {
    if let Some(tx) = &hooks.changed {
        let _ = tx.unbounded_send(());
    }
}

pub fn add(interest: Interest, on_change: OnChange) -> u64 {
    HOOKS.with(|h| {
        let mut h = h.borrow_mut();
        h.next += 1;
        let id = h.next;
        h.all.push((id, interest, on_change));
        changed(&h);
        id
    })
}

pub fn set_interest(id: u64, interest: Interest) {
    HOOKS.with(|h| {
        let mut h = h.borrow_mut();
        if let Some(hook) = h.all.iter_mut().find(|(i, ..)| *i == id) {
            if hook.1 != interest {
                hook.1 = interest;
                changed(&h);
            }
        }
    });
}

pub fn remove(id: u64) {
    HOOKS.with(|h| {
        let mut h = h.borrow_mut();
        h.all.retain(|(i, ..)| *i != id);
        changed(&h);
    });
}

/// The `Watch` for what the page shows now (everything, for a page with more parts than a
/// `Watch` names).
pub fn watch() -> String {
    use crate::api::live::MAX_INTERESTS;
    let mut interests: Vec<Interest> =
        HOOKS.with(|h| h.borrow().all.iter().map(|(_, i, _)| i.clone()).collect());
    interests.dedup();
    if interests.len() > MAX_INTERESTS {
        interests = vec![Interest::everything()];
    }
    PageMessage::Watch(interests).to_frame()
}

/// Hands a change to the hooks it concerns.
pub fn dispatch(about: &About, row: Option<&RowChange>) {
    let concerned: Vec<OnChange> = HOOKS.with(|h| {
        h.borrow()
            .all
            .iter()
            .filter(|(_, interest, _)| interest.concerns(about))
            .map(|(_, _, on_change)| on_change.clone())
            .collect()
    });
    for on_change in concerned {
        on_change(about, row);
    }
}
