//! Ready evaluators, owned by a snapshot: one RVM and one interpreter per worker, built on the
//! reload thread before the snapshot is swapped in.
//!
//! Owns: the pool and how a request borrows from it. Each thread has a home slot (assigned
//! round-robin on its first decision); it takes that slot's evaluator with a `try_lock`, or
//! the next free one, or, when every slot is busy (more threads deciding at once than the pool
//! was sized for), a fresh evaluator for that one decision. So a swap costs requests nothing,
//! and nothing outside the snapshot keeps it alive: once the last request that holds it
//! finishes, its evaluators go with it.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use regorus::rvm::program::Program;
use regorus::rvm::vm::RegoVM;
use regorus::{Engine, Value};

use super::{EvalLimits, timer_config};

static NEXT_HOME: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static HOME: Cell<Option<usize>> = const { Cell::new(None) };
}

fn home_slot() -> usize {
    HOME.with(|home| match home.get() {
        Some(slot) => slot,
        None => {
            let slot = NEXT_HOME.fetch_add(1, Ordering::Relaxed);
            home.set(Some(slot));
            slot
        }
    })
}

/// How to build one more RVM for this snapshot.
struct RvmRecipe {
    program: Arc<Program>,
    data: Value,
    limits: EvalLimits,
}

impl RvmRecipe {
    fn build(&self) -> Result<RegoVM, regorus::rvm::vm::VmError> {
        let mut vm = RegoVM::new();
        vm.load_program(self.program.clone());
        vm.set_data(self.data.clone())?;
        vm.set_max_instructions(self.limits.max_instructions);
        vm.set_execution_timer_config(Some(timer_config(self.limits)));
        Ok(vm)
    }
}

/// The snapshot's evaluators.
pub struct Evaluators {
    rvm: Option<RvmRecipe>,
    rvms: Vec<Mutex<RegoVM>>,
    /// The prepared engine every interpreter slot is a clone of.
    engine: Engine,
    interpreters: Vec<Mutex<Engine>>,
}

impl Evaluators {
    /// Builds `slots` evaluators of each kind (an RVM only when there is a program).
    pub fn build(
        engine: Engine,
        program: Option<Arc<Program>>,
        data: &Value,
        limits: EvalLimits,
        slots: usize,
    ) -> Result<Self, regorus::rvm::vm::VmError> {
        let mut pool = Self::interpreter_only(engine, slots);
        if let Some(program) = program {
            let recipe = RvmRecipe {
                program,
                data: data.clone(),
                limits,
            };
            pool.rvms = (0..pool.interpreters.len())
                .map(|_| recipe.build().map(Mutex::new))
                .collect::<Result<_, _>>()?;
            pool.rvm = Some(recipe);
        }
        Ok(pool)
    }

    /// A pool without an RVM program.
    pub fn interpreter_only(engine: Engine, slots: usize) -> Self {
        let interpreters = (0..slots.max(1))
            .map(|_| Mutex::new(engine.clone()))
            .collect();
        Self {
            rvm: None,
            rvms: Vec::new(),
            engine,
            interpreters,
        }
    }

    /// The prepared engine (for work that needs one outside a decision).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Runs `run` on an RVM of this snapshot; `None` when the snapshot has no RVM program.
    pub fn with_rvm<R>(
        &self,
        run: impl FnOnce(&mut RegoVM) -> R,
    ) -> Option<Result<R, regorus::rvm::vm::VmError>> {
        let recipe = self.rvm.as_ref()?;
        Some(match borrow(&self.rvms) {
            Some(mut vm) => Ok(run(&mut vm)),
            None => recipe.build().map(|mut vm| run(&mut vm)),
        })
    }

    /// Runs `run` on an interpreter of this snapshot.
    pub fn with_interpreter<R>(&self, run: impl FnOnce(&mut Engine) -> R) -> R {
        match borrow(&self.interpreters) {
            Some(mut engine) => run(&mut engine),
            None => run(&mut self.engine.clone()),
        }
    }

    /// Replaces every evaluator after a panic left one in an unknown state.
    pub fn reset_after_panic(&self) {
        for slot in &self.interpreters {
            if let Ok(mut engine) = slot.try_lock() {
                *engine = self.engine.clone();
            }
        }
        if let Some(recipe) = &self.rvm {
            for slot in &self.rvms {
                if let (Ok(mut vm), Ok(fresh)) = (slot.try_lock(), recipe.build()) {
                    *vm = fresh;
                }
            }
        }
    }
}

/// This thread's home slot, or the next free one; `None` when all are busy.
fn borrow<T>(slots: &[Mutex<T>]) -> Option<MutexGuard<'_, T>> {
    if slots.is_empty() {
        return None;
    }
    let home = home_slot() % slots.len();
    (0..slots.len()).find_map(|offset| {
        let slot = slots.get((home + offset) % slots.len())?;
        match slot.try_lock() {
            Ok(guard) => Some(guard),
            // A panic inside regorus poisoned it; `reset_after_panic` repairs the value.
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_slots_fall_back_to_a_fresh_evaluator() {
        let pool = Evaluators::interpreter_only(Engine::new(), 1);
        assert!(pool.with_rvm(|_| ()).is_none());
        // The only slot is held by the outer call; the inner one still gets an engine.
        let nested = pool.with_interpreter(|_| pool.with_interpreter(|_| 42));
        assert_eq!(nested, 42);
    }
}
