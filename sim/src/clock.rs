//! Virtual time: one clock for the whole simulated cluster, which moves
//! only when the simulator moves it, and each node's view of it (with the
//! node's own skew).

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// Where virtual time starts on the nodes' clocks (2026-01-01T00:00:00Z
/// since the Unix epoch), so that `Ctx::now` looks like a wall clock.
pub const EPOCH: Duration = Duration::from_secs(1_767_225_600);

/// The simulation's time and every pending timer; cheap to clone (all
/// clones share one clock).
#[derive(Debug, Clone, Default)]
pub struct VirtualTime {
    inner: Rc<RefCell<Timers>>,
}

#[derive(Debug, Default)]
struct Timers {
    /// Time since the simulation's origin.
    now: Duration,
    /// Pending timers by (deadline, id).
    queue: BinaryHeap<Reverse<(Duration, u64)>>,
    /// The waker of each pending timer (none until first polled), and
    /// whether it has fired; a timer dropped before firing is removed.
    states: BTreeMap<u64, TimerState>,
    next_id: u64,
}

#[derive(Debug)]
struct TimerState {
    fired: bool,
    waker: Option<Waker>,
}

impl VirtualTime {
    /// The current time since the origin.
    pub fn now(&self) -> Duration {
        self.inner.borrow().now
    }

    /// The earliest deadline of a timer that has not fired, if any.
    pub fn next_deadline(&self) -> Option<Duration> {
        let mut timers = self.inner.borrow_mut();
        while let Some(Reverse((deadline, id))) = timers.queue.peek().copied() {
            if timers.states.get(&id).is_some_and(|s| !s.fired) {
                return Some(deadline);
            }
            timers.queue.pop(); // dropped or fired already
        }
        None
    }

    /// Moves time forward to `to` (never back) and fires every timer due
    /// by then; returns how many fired.
    pub fn advance_to(&self, to: Duration) -> usize {
        let mut wakers = Vec::new();
        {
            let mut timers = self.inner.borrow_mut();
            timers.now = timers.now.max(to);
            let now = timers.now;
            while let Some(Reverse((deadline, id))) = timers.queue.peek().copied() {
                if deadline > now {
                    break;
                }
                timers.queue.pop();
                if let Some(state) = timers.states.get_mut(&id) {
                    if !state.fired {
                        state.fired = true;
                        wakers.extend(state.waker.take());
                    }
                }
            }
        }
        let fired = wakers.len();
        // Woken outside the borrow: a waker may poll at once.
        for waker in wakers {
            waker.wake();
        }
        fired
    }

    /// A future that completes once time reaches `deadline`.
    pub fn sleep_until(&self, deadline: Duration) -> Sleep {
        let mut timers = self.inner.borrow_mut();
        let id = timers.next_id;
        timers.next_id += 1;
        let fired = deadline <= timers.now;
        timers.states.insert(id, TimerState { fired, waker: None });
        if !fired {
            timers.queue.push(Reverse((deadline, id)));
        }
        Sleep {
            time: self.clone(),
            id,
        }
    }
}

/// A pending virtual timer; dropping it cancels it.
#[derive(Debug)]
pub struct Sleep {
    time: VirtualTime,
    id: u64,
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut timers = self.time.inner.borrow_mut();
        match timers.states.get_mut(&self.id) {
            Some(state) if state.fired => Poll::Ready(()),
            Some(state) => {
                state.waker = Some(cx.waker().clone());
                Poll::Pending
            }
            None => Poll::Ready(()),
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Ok(mut timers) = self.time.inner.try_borrow_mut() {
            timers.states.remove(&self.id);
        }
    }
}

/// How many times a node may read its clock at one virtual instant before
/// it is taken to be waiting for the clock to move without sleeping, which
/// virtual time never lets happen.
pub const MAX_READS_AT_ONE_INSTANT: u64 = 1_000_000;

/// One node's clock: the simulation's time seen through the node's skew.
#[derive(Debug, Clone)]
pub struct NodeClock {
    time: VirtualTime,
    /// How far this node's `now` is off, in nanoseconds (either way).
    skew_nanos: i64,
    /// Reads at the current instant: (the instant, how many).
    reads: Rc<std::cell::Cell<(Duration, u64)>>,
    /// Set when the node read the clock too often at one instant.
    spun: Rc<std::cell::Cell<bool>>,
}

impl NodeClock {
    /// The node's view of `time`, `skew_nanos` off.
    pub fn new(time: VirtualTime, skew_nanos: i64) -> Self {
        NodeClock {
            time,
            skew_nanos,
            reads: Rc::default(),
            spun: Rc::default(),
        }
    }

    /// Whether the node spun on this clock (see
    /// [`MAX_READS_AT_ONE_INSTANT`]); shared by every clone.
    pub fn spun(&self) -> Rc<std::cell::Cell<bool>> {
        self.spun.clone()
    }
}

impl glomers::seams::Clock for NodeClock {
    /// The node's time. A node that reads it [`MAX_READS_AT_ONE_INSTANT`]
    /// times without virtual time moving is waiting for it in a loop that
    /// can never end here: the read panics (the runtime answers the request
    /// being handled with error 13) and the simulator takes the node out.
    fn now(&self) -> Duration {
        let instant = self.time.now();
        let (at, count) = self.reads.get();
        let count = if at == instant { count + 1 } else { 1 };
        self.reads.set((instant, count));
        if count > MAX_READS_AT_ONE_INSTANT {
            self.spun.set(true);
            self.reads.set((instant, 0));
            panic!(
                "read the clock {MAX_READS_AT_ONE_INSTANT} times at one virtual instant: waiting for the clock to move without sleeping never ends under virtual time (use ctx.sleep)"
            );
        }
        let nanos = (EPOCH + instant).as_nanos() as i128 + i128::from(self.skew_nanos);
        Duration::from_nanos(u64::try_from(nanos.max(0)).unwrap_or(u64::MAX))
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()>>> {
        let deadline = self.time.now().saturating_add(duration);
        Box::pin(self.time.sleep_until(deadline))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use glomers::seams::Clock;
    use std::task::Wake;

    struct Flag(std::sync::atomic::AtomicBool);
    impl Wake for Flag {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn poll(sleep: &mut Sleep, flag: &std::sync::Arc<Flag>) -> bool {
        let waker = Waker::from(flag.clone());
        Pin::new(sleep)
            .poll(&mut Context::from_waker(&waker))
            .is_ready()
    }

    #[test]
    fn timers_fire_in_order_when_time_reaches_them() {
        let time = VirtualTime::default();
        let flag = std::sync::Arc::new(Flag(Default::default()));
        let mut late = time.sleep_until(Duration::from_millis(20));
        let mut early = time.sleep_until(Duration::from_millis(10));
        assert!(!poll(&mut late, &flag) && !poll(&mut early, &flag));
        assert_eq!(time.next_deadline(), Some(Duration::from_millis(10)));
        assert_eq!(time.advance_to(Duration::from_millis(15)), 1);
        assert!(flag.0.load(std::sync::atomic::Ordering::SeqCst), "woken");
        assert!(poll(&mut early, &flag) && !poll(&mut late, &flag));
        assert_eq!(time.next_deadline(), Some(Duration::from_millis(20)));
        drop(late);
        assert_eq!(time.next_deadline(), None, "a dropped timer is cancelled");
        assert_eq!(time.advance_to(Duration::from_millis(5)), 0);
        assert_eq!(
            time.now(),
            Duration::from_millis(15),
            "time never goes back"
        );
    }

    #[test]
    fn a_node_clock_is_skewed_but_its_timers_are_not() {
        let time = VirtualTime::default();
        let ahead = NodeClock::new(time.clone(), 50_000_000);
        let behind = NodeClock::new(time.clone(), -50_000_000);
        assert_eq!(ahead.now() - behind.now(), Duration::from_millis(100));
        assert_eq!(ahead.now(), EPOCH + Duration::from_millis(50));
        let _sleep = ahead.sleep(Duration::from_millis(30));
        assert_eq!(time.next_deadline(), Some(Duration::from_millis(30)));
    }
}
