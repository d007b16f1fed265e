//! Deciding which rules the regorus RVM evaluates and compiling them into one program.
//!
//! Owns: the RVM/interpreter split. A rule goes to the RVM only when the RVM gives the same
//! answer as OPA: it compiles, nothing it can reach may produce conflicting values (the RVM
//! turns a conflict into `undefined`, OPA and the interpreter report `eval_conflict_error`), and
//! it calls no builtin that authzd replaces on the interpreter.
//! Everything else stays on the interpreter, which is always correct, only slower.

use std::collections::HashMap;
use std::sync::Arc;

use regorus::CompiledPolicy;
use regorus::languages::rego::compiler::Compiler;
use regorus::rvm::program::{Program, RuleType};
use regorus::unstable::{Expr, Rule, RuleHead};

/// Which rule paths run on the RVM, and the program that holds them.
#[derive(Default)]
pub struct RvmPlan {
    pub program: Option<Arc<Program>>,
    /// Canonical rule path (`data.orders.allow`) -> entry point index in `program`.
    pub entries: HashMap<String, usize>,
    /// Rules left to the interpreter, with the reason (for logs and `authzd inspect`).
    pub fallbacks: Vec<(String, String)>,
}

/// Compiles `candidates` (document rules, not functions) for the RVM where that is safe.
pub fn plan(policy: &CompiledPolicy, candidates: &[String], data: &regorus::Value) -> RvmPlan {
    if candidates.is_empty() {
        return RvmPlan::default();
    }
    // Fast path: everything compiles together and nothing can conflict.
    if candidates.len() <= Program::MAX_ENTRY_POINTS
        && let Ok(program) = compile(policy, candidates)
        && conflict_risk(&program, policy).is_none()
        && overridden_builtin(&program).is_none()
        && program.check_rule_data_conflicts(data).is_ok()
    {
        return finish(program, candidates, Vec::new());
    }
    // Slow path: judge each rule on its own, then compile the good ones together.
    let mut accepted = Vec::new();
    let mut fallbacks = Vec::new();
    for rule in candidates {
        match compile(policy, std::slice::from_ref(rule)) {
            Err(reason) => fallbacks.push((rule.clone(), reason)),
            Ok(program) if program.check_rule_data_conflicts(data).is_err() => fallbacks.push((
                rule.clone(),
                "its path is also in the data: the RVM refuses to merge them, OPA does".to_string(),
            )),
            Ok(program) => match (conflict_risk(&program, policy), overridden_builtin(&program)) {
                (Some(risky), _) => fallbacks.push((
                    rule.clone(),
                    format!("{risky} has definitions that may produce conflicting values"),
                )),
                (None, Some(builtin)) => fallbacks.push((
                    rule.clone(),
                    format!(
                        "calls {builtin}, which authzd replaces with OPA's semantics (the RVM would call regorus's own)"
                    ),
                )),
                (None, None) if accepted.len() < Program::MAX_ENTRY_POINTS => {
                    accepted.push(rule.clone())
                }
                (None, None) => fallbacks.push((rule.clone(), "too many entry points".to_string())),
            },
        }
    }
    if accepted.is_empty() {
        return RvmPlan {
            fallbacks,
            ..RvmPlan::default()
        };
    }
    match compile(policy, &accepted) {
        Ok(program) => finish(program, &accepted, fallbacks),
        Err(reason) => {
            fallbacks.extend(accepted.into_iter().map(|r| (r, reason.clone())));
            RvmPlan {
                fallbacks,
                ..RvmPlan::default()
            }
        }
    }
}

fn compile(policy: &CompiledPolicy, rules: &[String]) -> Result<Arc<Program>, String> {
    let entry_points: Vec<&str> = rules.iter().map(String::as_str).collect();
    Compiler::compile_from_policy(policy, &entry_points).map_err(|e| {
        // regorus errors span several lines (location, source excerpt, message).
        e.to_string()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    })
}

fn finish(program: Arc<Program>, rules: &[String], fallbacks: Vec<(String, String)>) -> RvmPlan {
    let entries = rules
        .iter()
        .filter_map(|rule| {
            program
                .entry_points
                .get_index_of(rule.as_str())
                .map(|index| (rule.clone(), index))
        })
        .collect();
    RvmPlan {
        program: Some(program),
        entries,
        fallbacks,
    }
}

/// A builtin `program` calls that authzd overrides on the interpreter, if any: the RVM would
/// answer with regorus's own and disagree with the interpreter.
fn overridden_builtin(program: &Program) -> Option<String> {
    program
        .builtin_info_table
        .iter()
        .find(|b| crate::builtins::overrides_regorus(&b.name))
        .map(|b| b.name.clone())
}

/// The first rule in `program` whose definitions could disagree, if any.
fn conflict_risk(program: &Program, policy: &CompiledPolicy) -> Option<String> {
    program.rule_infos.iter().find_map(|info| {
        let several = info.definitions.len() > 1 && !info.early_exit_on_first_success;
        let risky = match info.rule_type {
            // Object rules can collide on a key even within one definition.
            RuleType::PartialObject => true,
            RuleType::PartialSet => false,
            RuleType::Complete if info.function_info.is_some() => {
                several && !functions_are_disjoint(policy.get_rules().get(&info.name))
            }
            RuleType::Complete => several,
        };
        risky.then(|| info.name.clone())
    })
}

/// True when no two definitions of a function can match the same arguments: for every pair
/// some argument position holds two different literals (`role_level("admin")` vs
/// `role_level("user")`).
fn functions_are_disjoint(definitions: Option<&Vec<regorus::unstable::Ref<Rule>>>) -> bool {
    let Some(definitions) = definitions else {
        return false;
    };
    let args: Vec<Vec<Option<regorus::Value>>> = definitions
        .iter()
        .map(|rule| match rule.as_ref() {
            Rule::Spec {
                head: RuleHead::Func { args, .. },
                ..
            } => args.iter().map(|a| literal(a.as_ref())).collect(),
            _ => Vec::new(),
        })
        .collect();
    args.iter().enumerate().all(|(i, a)| {
        args.iter().skip(i + 1).all(|b| {
            a.iter()
                .zip(b)
                .any(|(x, y)| matches!((x, y), (Some(x), Some(y)) if x != y))
        })
    })
}

fn literal(expr: &Expr) -> Option<regorus::Value> {
    match expr {
        Expr::String { value, .. }
        | Expr::RawString { value, .. }
        | Expr::Number { value, .. }
        | Expr::Bool { value, .. }
        | Expr::Null { value, .. } => Some(value.clone()),
        _ => None,
    }
}
