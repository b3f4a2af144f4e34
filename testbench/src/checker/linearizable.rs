//! Linearizability of one read/write/compare-and-set register, by the
//! Wing & Gong search with Lowe's memoisation (as in Knossos' `wgl` and
//! Porcupine).
//!
//! The history becomes a list of call and return entries in real-time order.
//! The search walks the list, linearizing a call whenever the register
//! allows it and the pair (set of linearized operations, register state) is
//! new, and backtracking when it meets the return of an operation it has not
//! linearized. Operations that failed are left out; those whose outcome is
//! unknown (`info`) have a call but no return, so they may take effect at any
//! point after their call, or never. The search gives up after a bounded
//! number of steps with the verdict "unknown" rather than running on.

use std::collections::HashSet;

use serde_json::Value;

/// What an operation does to the register.
#[derive(Debug, Clone, PartialEq)]
pub enum RegisterOp {
    /// A read that returned this value.
    Read(Value),
    Write(Value),
    Cas {
        from: Value,
        to: Value,
    },
}

/// One operation: its index in the history, when it was invoked and when it
/// returned (positions in one real-time order; `None` for unknown outcomes).
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub index: usize,
    pub call: u64,
    pub ret: Option<u64>,
    pub op: RegisterOp,
}

/// The search's verdict.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Linearizable,
    /// No order fits; `stuck` is the operation that could not be placed at
    /// the deepest point the search reached.
    NotLinearizable {
        stuck: usize,
    },
    /// The step budget ran out first.
    Unknown,
}

/// Steps the search may take for one register before giving up.
pub const DEFAULT_BUDGET: u64 = 5_000_000;

/// An entry of the call/return list.
#[derive(Debug, Clone, Copy)]
struct Entry {
    op: usize,
    is_call: bool,
    prev: usize,
    next: usize,
}

/// Applies `op` to the register `state` (values interned as ids; 0 is
/// "no value"), if it can happen there.
fn step(state: u32, op: &Interned) -> Option<u32> {
    match *op {
        Interned::Read(v) => (v == state).then_some(state),
        Interned::Write(v) => Some(v),
        Interned::Cas { from, to } => (from == state).then_some(to),
    }
}

#[derive(Debug, Clone, Copy)]
enum Interned {
    Read(u32),
    Write(u32),
    Cas { from: u32, to: u32 },
}

/// Checks that `ops` on a register that starts with no value are
/// linearizable, within `budget` steps.
pub fn check(ops: &[Operation], budget: u64) -> Verdict {
    let mut values: Vec<Value> = Vec::new();
    let mut intern = |v: &Value| -> u32 {
        if v.is_null() {
            return 0;
        }
        match values.iter().position(|known| known == v) {
            Some(at) => at as u32 + 1,
            None => {
                values.push(v.clone());
                values.len() as u32
            }
        }
    };
    let interned: Vec<Interned> = ops
        .iter()
        .map(|o| match &o.op {
            RegisterOp::Read(v) => Interned::Read(intern(v)),
            RegisterOp::Write(v) => Interned::Write(intern(v)),
            RegisterOp::Cas { from, to } => Interned::Cas {
                from: intern(from),
                to: intern(to),
            },
        })
        .collect();

    // The list: calls and returns sorted by time, between a head sentinel
    // (0) and a tail sentinel (last).
    let mut events: Vec<(u64, bool, usize)> = Vec::new(); // (time, is_return, op)
    for (i, o) in ops.iter().enumerate() {
        events.push((o.call, false, i));
        if let Some(ret) = o.ret {
            events.push((ret, true, i));
        }
    }
    // At equal times, returns first: an operation that returned at t did
    // not overlap one invoked at t.
    events.sort_by_key(|(time, is_return, _)| (*time, !*is_return));
    let n = events.len();
    let mut list: Vec<Entry> = Vec::with_capacity(n + 2);
    list.push(Entry {
        op: usize::MAX,
        is_call: false,
        prev: 0,
        next: 1,
    });
    let mut return_of = vec![usize::MAX; ops.len()];
    for (k, (_, is_return, op)) in events.iter().enumerate() {
        let at = k + 1;
        list.push(Entry {
            op: *op,
            is_call: !is_return,
            prev: at - 1,
            next: at + 1,
        });
        if *is_return {
            return_of[*op] = at;
        }
    }
    list.push(Entry {
        op: usize::MAX,
        is_call: false,
        prev: n,
        next: n + 1,
    });
    let mut remaining_returns = ops.iter().filter(|o| o.ret.is_some()).count();

    let words = ops.len().div_ceil(64);
    let mut linearized = vec![0u64; words];
    let mut cache: HashSet<(Vec<u64>, u32)> = HashSet::new();
    let mut stack: Vec<(usize, u32)> = Vec::new(); // (call entry, state before)
    let mut state = 0u32;
    let mut entry = list[0].next;
    let mut steps = 0u64;
    let mut deepest = (0usize, usize::MAX); // (stack depth, stuck op)

    while remaining_returns > 0 {
        steps += 1;
        if steps > budget {
            return Verdict::Unknown;
        }
        // Scanning from the head, a return is always met before the tail
        // while any is left.
        let e = list[entry];
        if e.is_call {
            if let Some(after) = step(state, &interned[e.op]) {
                let mut next_set = linearized.clone();
                next_set[e.op / 64] |= 1 << (e.op % 64);
                if cache.insert((next_set.clone(), after)) {
                    stack.push((entry, state));
                    linearized = next_set;
                    state = after;
                    unlink(&mut list, entry);
                    if return_of[e.op] != usize::MAX {
                        unlink(&mut list, return_of[e.op]);
                        remaining_returns -= 1;
                    }
                    entry = list[0].next;
                    continue;
                }
            }
            entry = e.next;
        } else {
            // The return of an operation not yet linearized: undo the last.
            if stack.len() >= deepest.0 {
                deepest = (stack.len(), ops[e.op].index);
            }
            let Some((call, before)) = stack.pop() else {
                return Verdict::NotLinearizable { stuck: deepest.1 };
            };
            let op = list[call].op;
            if return_of[op] != usize::MAX {
                relink(&mut list, return_of[op]);
                remaining_returns += 1;
            }
            relink(&mut list, call);
            linearized[op / 64] &= !(1 << (op % 64));
            state = before;
            entry = list[call].next;
        }
    }
    Verdict::Linearizable
}

/// Takes entry `at` out of the list (it keeps its own links).
fn unlink(list: &mut [Entry], at: usize) {
    let (prev, next) = (list[at].prev, list[at].next);
    list[prev].next = next;
    list[next].prev = prev;
}

/// Puts back an entry taken out by `unlink` (in reverse order of removal).
fn relink(list: &mut [Entry], at: usize) {
    let (prev, next) = (list[at].prev, list[at].next);
    list[prev].next = at;
    list[next].prev = at;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn op(index: usize, call: u64, ret: Option<u64>, op: RegisterOp) -> Operation {
        Operation {
            index,
            call,
            ret,
            op,
        }
    }
    use RegisterOp::*;

    #[test]
    fn sequential_history_is_linearizable() {
        let ops = [
            op(0, 0, Some(1), Write(json!(1))),
            op(1, 2, Some(3), Read(json!(1))),
            op(
                2,
                4,
                Some(5),
                Cas {
                    from: json!(1),
                    to: json!(2),
                },
            ),
            op(3, 6, Some(7), Read(json!(2))),
        ];
        assert_eq!(check(&ops, DEFAULT_BUDGET), Verdict::Linearizable);
    }

    #[test]
    fn a_stale_read_after_a_completed_write_is_not() {
        let ops = [
            op(0, 0, Some(1), Write(json!(1))),
            op(1, 2, Some(3), Write(json!(2))),
            op(2, 4, Some(5), Read(json!(1))),
        ];
        assert_eq!(
            check(&ops, DEFAULT_BUDGET),
            Verdict::NotLinearizable { stuck: 2 }
        );
    }

    #[test]
    fn concurrent_operations_may_take_either_order() {
        // The read overlaps the write, so it may see the old or new value.
        let ops = [
            op(0, 0, Some(1), Write(json!(1))),
            op(1, 2, Some(6), Write(json!(2))),
            op(2, 3, Some(4), Read(json!(1))),
            op(3, 7, Some(8), Read(json!(2))),
        ];
        assert_eq!(check(&ops, DEFAULT_BUDGET), Verdict::Linearizable);
    }

    #[test]
    fn unknown_writes_may_take_effect_late_or_never() {
        let late = [
            op(0, 0, None, Write(json!(5))),
            op(1, 10, Some(11), Read(Value::Null)),
            op(2, 20, Some(21), Read(json!(5))),
        ];
        assert_eq!(check(&late, DEFAULT_BUDGET), Verdict::Linearizable);
        let never = [
            op(0, 0, None, Write(json!(5))),
            op(1, 10, Some(11), Write(json!(6))),
            op(2, 12, Some(13), Read(json!(6))),
        ];
        assert_eq!(check(&never, DEFAULT_BUDGET), Verdict::Linearizable);
        // But once a read saw the unknown write, a later read cannot undo it.
        let undone = [
            op(0, 0, None, Write(json!(5))),
            op(1, 1, Some(2), Write(json!(1))),
            op(2, 10, Some(11), Read(json!(5))),
            op(3, 20, Some(21), Read(json!(1))),
        ];
        assert!(matches!(
            check(&undone, DEFAULT_BUDGET),
            Verdict::NotLinearizable { .. }
        ));
    }

    #[test]
    fn compare_and_set_must_find_its_value() {
        let ops = [
            op(0, 0, Some(1), Write(json!(1))),
            op(
                1,
                2,
                Some(3),
                Cas {
                    from: json!(3),
                    to: json!(4),
                },
            ),
        ];
        assert!(matches!(
            check(&ops, DEFAULT_BUDGET),
            Verdict::NotLinearizable { stuck: 1 }
        ));
    }

    #[test]
    fn a_small_budget_gives_unknown() {
        let ops: Vec<Operation> = (0..30)
            .map(|i| op(i, i as u64, Some(1000 + i as u64), Write(json!(i))))
            .chain(std::iter::once(op(30, 2000, Some(2001), Read(json!(999)))))
            .collect();
        assert_eq!(check(&ops, 1000), Verdict::Unknown);
    }
}
