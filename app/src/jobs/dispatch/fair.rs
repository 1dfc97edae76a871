//! Which client's part runs next: the one served the fewest bytes so far, with a head start
//! for a client that was idle.
//!
//! Taking turns (one part per client, round-robin) shares the threads equally, so a 1 MB job
//! beside a 5 GB one runs at half its idle speed: twice its idle time. Serving the client that
//! has been served least lets a small job take the next free threads and finish at nearly its
//! idle speed, while two big jobs still share equally (each part served raises its client's
//! count). A client becoming active starts from the least count among the active ones less
//! [`HEAD_START`], never below its own count: what it got before is remembered, so a client
//! that sends job after job gets the head start once, not with every job.

use std::collections::{HashMap, VecDeque};

/// How far ahead of the active clients a client that was idle may start: this many bytes of
/// its work run before the others' resume taking turns with it.
pub const HEAD_START: u64 = 64 << 20;

/// Clients whose counts are remembered while idle, before the oldest are forgotten.
const REMEMBERED: usize = 4096;

/// A piece of work, of a size in bytes.
pub trait Work {
    fn bytes(&self) -> u64;
}

#[derive(Debug)]
struct Client<T> {
    queue: VecDeque<T>,
    /// Bytes of its work handed out (plus where it started).
    served: u64,
    /// When it was last served, to break ties in turn.
    last: u64,
}

/// Each client's queue of work, and the order of service between them.
#[derive(Debug)]
pub struct Fair<T> {
    clients: HashMap<String, Client<T>>,
    tick: u64,
}

impl<T> Default for Fair<T> {
    fn default() -> Self {
        Self {
            clients: HashMap::new(),
            tick: 0,
        }
    }
}

impl<T: Work> Fair<T> {
    /// Adds `work` to the end of `client`'s queue.
    pub fn push(&mut self, client: &str, work: impl IntoIterator<Item = T>) {
        let floor = self.least_active().map(|m| m.saturating_sub(HEAD_START));
        let tick = self.tick;
        let entry = self
            .clients
            .entry(client.to_owned())
            .or_insert_with(|| Client {
                queue: VecDeque::new(),
                served: 0,
                last: tick,
            });
        if entry.queue.is_empty()
            && let Some(floor) = floor
        {
            entry.served = entry.served.max(floor);
        }
        entry.queue.extend(work);
        if self.clients.len() > REMEMBERED {
            // An idle client at or below the floor would be raised to it anyway.
            let floor = floor.unwrap_or(0);
            self.clients
                .retain(|_, c| !c.queue.is_empty() || c.served > floor);
        }
    }

    /// The next piece of work of the active client served least (ties: the one served longest
    /// ago).
    pub fn pop(&mut self) -> Option<T> {
        let client = self
            .clients
            .values_mut()
            .filter(|c| !c.queue.is_empty())
            .min_by_key(|c| (c.served, c.last))?;
        let work = client.queue.pop_front()?;
        self.tick += 1;
        client.served += work.bytes();
        client.last = self.tick;
        Some(work)
    }

    fn least_active(&self) -> Option<u64> {
        self.clients
            .values()
            .filter(|c| !c.queue.is_empty())
            .map(|c| c.served)
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (client, bytes)
    #[derive(Debug, PartialEq)]
    struct W(&'static str, u64);

    impl Work for W {
        fn bytes(&self) -> u64 {
            self.1
        }
    }

    fn work(client: &'static str, n: usize, bytes: u64) -> Vec<W> {
        (0..n).map(|_| W(client, bytes)).collect()
    }

    fn drain(fair: &mut Fair<W>, n: usize) -> Vec<&'static str> {
        (0..n).filter_map(|_| fair.pop()).map(|w| w.0).collect()
    }

    const MB: u64 = 1 << 20;

    #[test]
    fn a_client_arriving_beside_a_big_job_goes_first_then_they_take_turns() {
        let mut fair = Fair::default();
        fair.push("big", work("big", 1000, MB));
        assert_eq!(drain(&mut fair, 200), vec!["big"; 200]);
        fair.push("small", work("small", 3, MB));
        assert_eq!(drain(&mut fair, 4), ["small", "small", "small", "big"]);
    }

    #[test]
    fn the_head_start_is_bounded_then_two_big_clients_share_equally() {
        let mut fair = Fair::default();
        fair.push("a", work("a", 1000, MB));
        drain(&mut fair, 500);
        fair.push("b", work("b", 1000, MB));
        let head = drain(&mut fair, 64);
        assert_eq!(head, vec!["b"; 64], "64 MB of head start");
        let next = drain(&mut fair, 10);
        assert_eq!(next.iter().filter(|c| **c == "a").count(), 5, "{next:?}");
    }

    #[test]
    fn a_client_sending_job_after_job_gets_the_head_start_once() {
        let mut fair = Fair::default();
        fair.push("a", work("a", 1000, MB));
        drain(&mut fair, 500);
        for _ in 0..3 {
            fair.push("b", work("b", 40, MB));
            drain(&mut fair, 40);
        }
        // Over three jobs b got ahead of a by the head start once, not three times.
        let b_served = fair.clients["b"].served;
        let a_served = fair.clients["a"].served;
        assert!(b_served <= a_served + MB, "a {a_served}, b {b_served}");
    }

    #[test]
    fn within_a_client_work_runs_in_the_order_it_came() {
        let mut fair = Fair::default();
        fair.push("a", vec![W("a", 1), W("a", 2)]);
        fair.push("a", vec![W("a", 3)]);
        let sizes: Vec<u64> = std::iter::from_fn(|| fair.pop()).map(|w| w.1).collect();
        assert_eq!(sizes, [1, 2, 3]);
    }
}
