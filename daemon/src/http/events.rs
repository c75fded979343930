//! `GET /api/v1/events`: server-sent events fed by the applier's publish
//! (`Core::subscribe`), coalesced so that a run logging thousands of steps
//! a second costs a listener at most four rows a second.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use serde_json::json;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use super::Http;
use super::api::row;
use super::auth::Authorized;
use super::params::Params;
use crate::core::{Core, RunEvent};
use crate::query::info;

/// Changes gathered before they are sent.
const COALESCE: Duration = Duration::from_millis(250);
/// Events a slow page may have unread before the feeder waits for it.
const BUFFERED_EVENTS: usize = 256;

pub async fn events(
    _: Authorized,
    State(st): State<Http>,
    RawQuery(q): RawQuery,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let project = Params::parse(q.as_deref())
        .get("project")
        .filter(|p| !p.is_empty())
        .map(str::to_string);
    // Subscribed before the hello: nothing published after it is missed.
    let rx = st.core.subscribe();
    let (tx, out) = mpsc::channel(BUFFERED_EVENTS);
    let hello = Event::default()
        .event("hello")
        .data(json!({"version": env!("CARGO_PKG_VERSION"), "api": super::API_VERSION}).to_string());
    let _ = tx.try_send(Ok(hello));
    tokio::spawn(feed(st.core.clone(), project, rx, tx));
    Sse::new(ReceiverStream::new(out)).keep_alive(KeepAlive::default())
}

#[derive(Default)]
struct Pending {
    changed: BTreeSet<Arc<str>>,
    removed: BTreeSet<Arc<str>>,
    all: bool,
}

impl Pending {
    /// Notes one event; false when the daemon is going away.
    fn note(&mut self, ev: Result<RunEvent, broadcast::error::RecvError>) -> bool {
        match ev {
            Ok(RunEvent::Changed(id)) => {
                self.removed.remove(&id);
                self.changed.insert(id);
            }
            Ok(RunEvent::Removed(id)) => {
                self.changed.remove(&id);
                self.removed.insert(id);
            }
            // A listener that fell behind sends every run again.
            Ok(RunEvent::All) | Err(broadcast::error::RecvError::Lagged(_)) => self.all = true,
            Err(broadcast::error::RecvError::Closed) => return false,
        }
        true
    }
}

type Tx = mpsc::Sender<Result<Event, Infallible>>;

async fn feed(
    core: Arc<Core>,
    project: Option<String>,
    mut rx: broadcast::Receiver<RunEvent>,
    tx: Tx,
) {
    loop {
        let mut p = Pending::default();
        tokio::select! {
            ev = rx.recv() => if !p.note(ev) { return },
            () = tx.closed() => return,
        }
        let deadline = tokio::time::sleep(COALESCE);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                ev = rx.recv() => if !p.note(ev) { return },
                () = &mut deadline => break,
                () = tx.closed() => return,
            }
        }
        if !send_pending(&core, project.as_deref(), p, &tx).await {
            return;
        }
    }
}

/// Sends the gathered changes; false when the page has gone.
async fn send_pending(core: &Core, project: Option<&str>, p: Pending, tx: &Tx) -> bool {
    let runs = if p.all {
        core.all_runs()
    } else {
        p.changed.iter().filter_map(|id| core.run(id)).collect()
    };
    for r in runs {
        if !r.state.started() {
            continue;
        }
        let i = info(&r);
        if project.is_some_and(|p| p != i.project) {
            continue;
        }
        let ev = Event::default().event("run").data(row(&i).to_string());
        if tx.send(Ok(ev)).await.is_err() {
            return false;
        }
    }
    for id in p.removed {
        let ev = Event::default()
            .event("removed")
            .data(json!({ "id": &*id }).to_string());
        if tx.send(Ok(ev)).await.is_err() {
            return false;
        }
    }
    true
}
