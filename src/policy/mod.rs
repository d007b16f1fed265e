//! Compiling bundles into an immutable [`Snapshot`]: everything a decision needs, built once
//! off the request path.
//!
//! Owns: loading modules and data into a prepared regorus `Engine` (refusing what could only
//! fail at decision time: a wrong-arity extension call, a call to an unknown function, a
//! recursion), listing the rules, planning which of them run on the RVM ([`rvm_plan`]), and
//! resolving a request path to a rule, a package (namespace) or plain data. Evaluation itself
//! lives in [`crate::decide`].

mod arithmetic_operands;
pub mod calls;
pub mod comprehension_scopes;
mod demotions;
mod duration_literals;
mod evaluators;
mod import_aliases;
mod loop_values;
mod loopless_comprehensions;
pub mod metadata;
pub mod negation;
pub mod nesting;
mod object_patterns;
pub mod operator_calls;
pub mod output_arguments;
mod partial_heads;
mod path;
mod regex_literals;
pub mod rego_ast;
pub mod routing;
pub mod rule_graph;
mod rvm_plan;
mod some_in_loops;
mod splice;
pub mod unary_minus;
mod unchecked_values;
pub mod with_builtins;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use regorus::unstable::{Rule, RuleHead};
use regorus::{Engine, Value};

use crate::bundle::{Bundle, parse_ref};
pub use demotions::Demotions;
pub use evaluators::Evaluators;
pub use path::{
    DataPath, MAX_PATH_SEGMENTS, OwnedDataPath, PathError, as_index, fast_key, split_path, to_ref,
    walk,
};
use rule_graph::{RuleGraph, is_function};

/// Bounds on one evaluation. Exceeding either is an evaluation error, never a hang.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalLimits {
    /// RVM instructions per decision (regorus' default of 25,000 is too low for policies that
    /// iterate over data).
    pub max_instructions: usize,
    /// Wall-clock budget per decision, for both the RVM and the interpreter.
    pub timeout: Duration,
}

impl Default for EvalLimits {
    fn default() -> Self {
        Self {
            max_instructions: 1_000_000,
            timeout: Duration::from_millis(500),
        }
    }
}

/// regorus's caps on one policy file. Its own (1,024 columns, 1 MiB, 20,000 lines) refuse real
/// bundles, where an inline JWKS, certificate or token is one long line; OPA has no such caps,
/// and bundles are trusted, so authzd's defaults are generous.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceLimits {
    /// Longest line, in columns (characters).
    pub max_line_bytes: u32,
    pub max_file_bytes: usize,
    pub max_lines: usize,
    /// Deepest nesting of `[` and `{` ([`nesting`]).
    pub max_nesting: usize,
    /// Longest chain of rules and functions that call each other ([`RuleGraph::check_depth`]).
    pub max_rule_depth: usize,
}

impl Default for SourceLimits {
    fn default() -> Self {
        Self {
            max_line_bytes: 1 << 20,
            max_file_bytes: crate::bundle::DEFAULT_MAX_BUNDLE_BYTES as usize,
            max_lines: 1_000_000,
            max_nesting: nesting::DEFAULT_MAX_NESTING,
            max_rule_depth: rule_graph::DEFAULT_MAX_RULE_DEPTH,
        }
    }
}

impl SourceLimits {
    /// Sets these caps on `engine` (a zero counts as one).
    pub fn apply(&self, engine: &mut Engine) {
        use std::num::{NonZeroU32, NonZeroUsize};
        engine.set_policy_length_config(regorus::PolicyLengthConfig {
            max_col: NonZeroU32::new(self.max_line_bytes).unwrap_or(NonZeroU32::MIN),
            max_file_bytes: NonZeroUsize::new(self.max_file_bytes).unwrap_or(NonZeroUsize::MIN),
            max_lines: NonZeroUsize::new(self.max_lines).unwrap_or(NonZeroUsize::MIN),
        });
    }

    /// regorus's message for a file beyond a cap, with the setting that raises it.
    fn explain(message: String) -> String {
        let setting = if message.contains("maximum column width") {
            "--max-policy-line-bytes"
        } else if message.contains("maximum allowed policy file size") {
            "--max-policy-file-bytes"
        } else if message.contains("maximum allowed line count") {
            "--max-policy-lines"
        } else {
            return message;
        };
        format!("{message} (raise {setting} if the policy is right)")
    }
}

/// How to compile: limits, and whether the RVM may be used at all (tests compare both paths).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompileOptions {
    pub limits: EvalLimits,
    /// Caps on each policy file.
    pub sources: SourceLimits,
    pub use_rvm: bool,
    /// Ready evaluators of each kind the snapshot holds: one per thread that decides.
    pub evaluator_slots: usize,
}

impl Default for CompileOptions {
    fn default() -> Self {
        Self {
            limits: EvalLimits::default(),
            sources: SourceLimits::default(),
            use_rvm: true,
            evaluator_slots: crate::threads::default_threads() + 2,
        }
    }
}

/// Why a set of bundles could not be compiled. Rego errors carry regorus' `file:line:col`.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error("{message}")]
    Rego { message: String },
    #[error("data: {message}")]
    Data { message: String },
    /// Calls to functions that do not exist: OPA's `rego_type_error`, one line per call.
    #[error("{}", lines(.0))]
    UndefinedFunctions(Vec<calls::UnknownCall>),

    #[error(
        "bundles {a:?} and {b:?} have overlapping roots ({root_a:?} and {root_b:?}); give each bundle its own roots in .manifest"
    )]
    RootsOverlap {
        a: String,
        b: String,
        root_a: String,
        root_b: String,
    },
}

fn lines(calls: &[calls::UnknownCall]) -> String {
    let lines: Vec<String> = calls.iter().map(ToString::to_string).collect();
    lines.join("\n")
}

/// A bundle's name and revision, as reported in provenance and decision logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleRevision {
    pub name: String,
    pub revision: String,
}

/// A rule known to the snapshot.
#[derive(Debug, Clone)]
pub struct RuleEntry {
    /// Canonical rule path, as regorus names it (`data.orders.allow`).
    pub path: String,
    pub segments: Vec<String>,
    /// Entry point index in the snapshot's RVM program, when the RVM evaluates this rule.
    pub rvm_entry: Option<usize>,
    /// Input paths that must not hold a number for the RVM to be used (see
    /// [`routing::trips`]); empty for most rules.
    pub rvm_guard: Vec<Vec<String>>,
    /// Functions are not documents: a path naming one is undefined.
    pub is_function: bool,
    /// Its place in the snapshot's rules.
    pub index: usize,
    /// The bundle that defines it (index into [`Snapshot::bundles`]).
    pub bundle: Option<usize>,
    /// The same rule text has the same fingerprint (a demotion outlives a reload of it).
    pub fingerprint: u64,
}

/// Where one rule runs (for `/v1/status`, the `authzd_rules` gauge and `authzd inspect`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleEvaluator<'s> {
    pub rule: &'s str,
    /// The bundle that defines it.
    pub bundle: Option<&'s str>,
    /// `rvm` or `interpreter`.
    pub evaluator: &'static str,
    /// Why not the RVM.
    pub reason: Option<&'s str>,
}

/// What a request path names.
#[derive(Debug)]
pub enum Target<'s> {
    /// A rule, and the rest of the path to follow into its value.
    Rule {
        rule: &'s RuleEntry,
        rest: Vec<String>,
    },
    /// A package or an ancestor of packages: rules and data merged (`/v1/data/orders`).
    Namespace { segments: Vec<String> },
    /// Plain data, no rule at or below it.
    Data { segments: Vec<String> },
    /// A path into or above rules whose ref head holds a variable (`svc/orders/allow` of
    /// `svc[name].allow := ...`): evaluated as the Rego reference it names, since regorus knows
    /// no rule by such a path. `segments[..known]` is the part the bundle names (the rest
    /// comes from the request).
    Reference { segments: Vec<String>, known: usize },
}

/// At most this many errors of one kind in a load error, as OPA's compiler reports.
const MAX_LOAD_ERRORS: usize = 10;

static NEXT_SNAPSHOT_ID: AtomicU64 = AtomicU64::new(1);

/// Everything needed to evaluate decisions for one set of bundle revisions. Immutable; swapped
/// whole by the store, so a request never sees half of a bundle.
pub struct Snapshot {
    id: u64,
    /// Shared so a decision-log event can keep it without copying.
    pub bundles: Arc<[BundleRevision]>,
    pub(crate) evaluators: Evaluators,
    pub(crate) data: Value,
    pub limits: EvalLimits,
    rules: Vec<RuleEntry>,
    by_key: HashMap<Box<str>, usize>,
    by_segments: HashMap<Vec<String>, usize>,
    namespaces: HashSet<Vec<String>>,
    /// Segments of the longest rule path.
    max_rule_depth: usize,
    /// Rules the RVM does not evaluate, with the reason.
    pub interpreter_rules: Vec<(String, String)>,
    /// Rules the fast-path self-check demoted to the interpreter (by rule index).
    demoted: Vec<AtomicBool>,
    /// Every package's path and its ancestors. A namespace outside them lies inside rules'
    /// ref heads (`w` of `w.a := 1`).
    package_prefixes: HashSet<Vec<String>>,
    /// Rules' paths up to a variable of their ref head (`p.svc` of `svc[name].allow`), where
    /// regorus has no rule; a path below one is a [`Target::Reference`].
    dynamic_heads: HashSet<Vec<String>>,
    /// The namespaces above `dynamic_heads` (without packages): also references.
    above_dynamic_heads: HashSet<Vec<String>>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("id", &self.id)
            .field("bundles", &self.bundles)
            .field("rules", &self.rules.len())
            .finish_non_exhaustive()
    }
}

impl Snapshot {
    /// A snapshot with no policies and no data: every path is undefined.
    pub fn empty(limits: EvalLimits) -> Self {
        Self::assemble(
            Arc::from(Vec::new()),
            Evaluators::interpreter_only(new_engine(limits), 1),
            Value::new_object(),
            limits,
            Vec::new(),
            Vec::new(),
        )
    }

    /// Compiles `bundles` together. Fails on any Rego error, a data/rule conflict or
    /// overlapping roots; the caller keeps serving its previous snapshot.
    pub fn compile(bundles: &[Arc<Bundle>], options: CompileOptions) -> Result<Self, CompileError> {
        check_roots(bundles)?;
        let (mut engine, data, graph) = load_engine(bundles, options)?;
        let listed = list_rules(&mut engine)?;
        let planned = match compiled_policy(&mut engine, &listed.entries)? {
            None => Planned::default(),
            Some(policy) => {
                let modules: HashMap<String, usize> = bundles
                    .iter()
                    .enumerate()
                    .flat_map(|(i, b)| b.modules.iter().map(move |m| (module_id(b, &m.file), i)))
                    .collect();
                plan_rules(&policy, &listed, options.use_rvm, &graph, &data, &modules)
            }
        };
        let revisions: Arc<[BundleRevision]> = bundles
            .iter()
            .map(|b| BundleRevision {
                name: b.name.clone(),
                revision: b.manifest.revision.clone(),
            })
            .collect();
        // Every evaluator a request may need is ready before the snapshot is swapped in. A
        // rule and a data document at the same path fails here, at load.
        let evaluators = Evaluators::build(
            engine,
            planned.program,
            &data,
            options.limits,
            options.evaluator_slots,
        )
        .map_err(|e| CompileError::Data {
            message: e.to_string(),
        })?;
        let mut snapshot = Self::assemble(
            revisions,
            evaluators,
            data,
            options.limits,
            planned.rules,
            planned.fallbacks,
        );
        snapshot.package_prefixes = bundles
            .iter()
            .flat_map(|b| b.modules.iter())
            .flat_map(|m| (0..=m.package.len()).map(|end| m.package[..end].to_vec()))
            .collect();
        snapshot.set_dynamic_heads(graph.dynamic_ref_heads());
        Ok(snapshot)
    }

    /// Records the paths up to a ref head's variable (see `dynamic_heads`), except where regorus
    /// has a rule of that path itself (`by_tenant` of `by_tenant[t] contains n`).
    fn set_dynamic_heads<'g>(&mut self, heads: impl Iterator<Item = &'g [String]>) {
        for head in heads {
            if self.by_segments.contains_key(head) {
                continue;
            }
            for end in 0..head.len() {
                if !self.package_prefixes.contains(&head[..end]) {
                    self.above_dynamic_heads.insert(head[..end].to_vec());
                }
            }
            self.max_rule_depth = self.max_rule_depth.max(head.len());
            self.dynamic_heads.insert(head.to_vec());
        }
        // regorus names such a rule after its variable (`data.t.svc.name.allow`): a request for
        // `svc/name/allow` means the key "name", a reference like any other.
        let dynamic = &self.dynamic_heads;
        let below =
            |segments: &[String]| (1..segments.len()).any(|end| dynamic.contains(&segments[..end]));
        self.by_segments.retain(|segments, _| !below(segments));
        self.by_key
            .retain(|key, _| !below(&key.split('/').map(String::from).collect::<Vec<_>>()));
    }

    /// True for a package's path or an ancestor of one (`orders`, or `[]` for all of `data`).
    pub fn is_package_prefix(&self, segments: &[String]) -> bool {
        segments.is_empty() || self.package_prefixes.contains(segments)
    }

    fn assemble(
        bundles: Arc<[BundleRevision]>,
        evaluators: Evaluators,
        data: Value,
        limits: EvalLimits,
        rules: Vec<RuleEntry>,
        interpreter_rules: Vec<(String, String)>,
    ) -> Self {
        let mut by_key = HashMap::new();
        let mut by_segments = HashMap::new();
        let mut namespaces = HashSet::new();
        let max_rule_depth = rules.iter().map(|r| r.segments.len()).max().unwrap_or(0);
        let rules_len = rules.len();
        for (index, rule) in rules.iter().enumerate() {
            if rule.segments.iter().all(|s| !s.contains('/')) {
                by_key.insert(rule.segments.join("/").into_boxed_str(), index);
            }
            by_segments.insert(rule.segments.clone(), index);
            for end in 0..rule.segments.len() {
                namespaces.insert(rule.segments[..end].to_vec());
            }
        }
        Self {
            id: NEXT_SNAPSHOT_ID.fetch_add(1, Ordering::Relaxed),
            bundles,
            evaluators,
            data,
            limits,
            rules,
            by_key,
            by_segments,
            namespaces,
            max_rule_depth,
            interpreter_rules,
            demoted: (0..rules_len).map(|_| AtomicBool::new(false)).collect(),
            package_prefixes: HashSet::new(),
            dynamic_heads: HashSet::new(),
            above_dynamic_heads: HashSet::new(),
        }
    }

    /// Sends the rule at `index` to the interpreter for the rest of this snapshot's life; true
    /// when it was on the RVM until now.
    pub fn demote(&self, index: usize) -> bool {
        self.demoted
            .get(index)
            .is_some_and(|flag| !flag.swap(true, Ordering::Relaxed))
    }

    /// True when the self-check demoted the rule at `index`.
    pub fn is_demoted(&self, index: usize) -> bool {
        self.demoted
            .get(index)
            .is_some_and(|flag| flag.load(Ordering::Relaxed))
    }

    /// How many rules of each bundle run on each evaluator.
    pub fn rule_counts(&self) -> std::collections::BTreeMap<(String, &'static str), usize> {
        let mut counts = std::collections::BTreeMap::new();
        for rule in self.rule_evaluators() {
            if let Some(bundle) = rule.bundle {
                *counts
                    .entry((bundle.to_string(), rule.evaluator))
                    .or_insert(0) += 1;
            }
        }
        counts
    }

    /// Where each document rule runs, and why not on the RVM.
    pub fn rule_evaluators(&self) -> Vec<RuleEvaluator<'_>> {
        let reasons: HashMap<&str, &str> = self
            .interpreter_rules
            .iter()
            .map(|(rule, reason)| (rule.as_str(), reason.as_str()))
            .collect();
        self.rules
            .iter()
            .filter(|r| !r.is_function)
            .map(|r| {
                let (evaluator, reason) = if self.is_demoted(r.index) {
                    let reason = "demoted: the fast-path self-check saw the RVM answer differently";
                    ("interpreter", Some(reason))
                } else if r.rvm_entry.is_some() {
                    ("rvm", None)
                } else {
                    ("interpreter", reasons.get(r.path.as_str()).copied())
                };
                RuleEvaluator {
                    rule: &r.path,
                    bundle: r
                        .bundle
                        .and_then(|b| self.bundles.get(b))
                        .map(|b| b.name.as_str()),
                    evaluator,
                    reason,
                }
            })
            .collect()
    }

    /// Unique per snapshot; per-thread evaluators rebuild themselves when it changes.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Every rule of the snapshot.
    pub fn rules(&self) -> &[RuleEntry] {
        &self.rules
    }

    /// Resolves a request path to what evaluates it, in time linear in the path's length.
    pub fn resolve(&self, path: DataPath<'_>) -> Result<Target<'_>, PathError> {
        if let Some(key) = path.fast_key()
            && let Some(&index) = self.by_key.get(key)
            && let Some(rule) = self.rules.get(index)
        {
            return Ok(Target::Rule {
                rule,
                rest: Vec::new(),
            });
        }
        Ok(self.resolve_segments(path.segments()?))
    }

    /// Resolves already split path segments. Only prefixes up to the deepest rule are looked
    /// up, so a long path costs its length, not its length squared.
    pub fn resolve_segments(&self, segments: Vec<String>) -> Target<'_> {
        for end in 1..=segments.len().min(self.max_rule_depth) {
            if !self.dynamic_heads.is_empty() && self.dynamic_heads.contains(&segments[..end]) {
                return Target::Reference {
                    segments,
                    known: end,
                };
            }
            if let Some(&index) = self.by_segments.get(&segments[..end])
                && let Some(rule) = self.rules.get(index)
            {
                return Target::Rule {
                    rule,
                    rest: segments[end..].to_vec(),
                };
            }
        }
        if self.above_dynamic_heads.contains(&segments) {
            let known = segments.len();
            Target::Reference { segments, known }
        } else if (segments.len() < self.max_rule_depth && self.namespaces.contains(&segments))
            || self.package_prefixes.contains(&segments)
        {
            Target::Namespace { segments }
        } else {
            Target::Data { segments }
        }
    }
}

/// What a module's rewrites need to know of the bundle's other modules.
struct Neighbours<'n> {
    /// The names its package's rules have, in every module.
    package_rules: &'n std::collections::BTreeSet<String>,
    /// The paths dotted rule heads start, in every module.
    ref_heads: &'n std::collections::BTreeSet<String>,
}

/// `text` as OPA evaluates it where regorus would not: references through imports into
/// ref-head rules ([`import_aliases`]), partial-rule heads that can be undefined
/// ([`partial_heads`]), Go's syntax in literal patterns ([`regex_literals`]), object
/// patterns and objects with other keys ([`object_patterns`]), unary minus over a term
/// ([`unary_minus`]), arithmetic on what may not be a number ([`arithmetic_operands`]), operators called by name ([`operator_calls`]), `not` over undefined call arguments ([`negation`]) and `with ... as
/// <builtin>` ([`with_builtins`]). The text as written when it has none, or does not parse
/// (the real load reports that).
fn rewritten_text(
    id: &str,
    text: &str,
    rego_v0: bool,
    neighbours: Neighbours<'_>,
    options: CompileOptions,
) -> String {
    // Cheap tests first: most modules need no rewrite, and parsing costs.
    let heads = partial_heads::may_apply(text);
    let others = text.contains("not ") || text.contains("with ");
    let outputs = output_arguments::may_apply(text);
    let scopes = comprehension_scopes::may_apply(text, neighbours.package_rules);
    let regexes = regex_literals::may_apply(text);
    let patterns = object_patterns::may_apply(text);
    let minus = unary_minus::may_apply(text);
    let imports = import_aliases::may_apply(text, neighbours.ref_heads);
    let operators = operator_calls::may_apply(text);
    let loops = some_in_loops::may_apply(text);
    let durations = duration_literals::may_apply(text);
    // Operators called by name (`minus(x, 1)`) become arithmetic on the way.
    let arithmetic = arithmetic_operands::may_apply(text) || operators;
    let any = heads
        || others
        || outputs
        || scopes
        || regexes
        || patterns
        || minus
        || imports
        || operators
        || loops
        || durations
        || arithmetic;
    if !any {
        return text.to_string();
    }
    let parse = |text: &str| {
        let mut scratch = new_engine(options.limits);
        options.sources.apply(&mut scratch);
        scratch.set_rego_v0(rego_v0);
        scratch.add_policy(id.to_string(), text.to_string()).ok()?;
        scratch.get_modules().first().cloned()
    };
    let Some(mut module) = parse(text) else {
        return text.to_string();
    };
    let mut text = text.to_string();
    // Each on its own, parsed again after it, in this order: references through imports
    // first (written as the paths they name, so no later step takes them for variables), then
    // comprehension variables (renaming moves every later column), then operators called by
    // name (which output arguments would take for calls), then output arguments (a negated
    // call's guard reads the rewritten call), then partial-rule heads (the rewrites below may brace the same body),
    // then regular expressions (wherever the heads moved them), then object patterns (whose
    // guards may brace a body the heads left alone), then loops over what may not be a
    // collection, then unary minus, then literal durations (a call becomes a number), then
    // arithmetic operands (a unary minus is a subtraction by then).
    type Rewrite<'r> = &'r dyn Fn(&regorus::unstable::Module, &str) -> Vec<splice::Edit>;
    let steps: [(bool, Rewrite<'_>); 11] = [
        (imports, &|module, text| {
            import_aliases::edits(module, text, neighbours.ref_heads)
        }),
        (scopes, &|module, _| {
            comprehension_scopes::edits(module, neighbours.package_rules)
        }),
        (operators, &|module, text| {
            operator_calls::edits(module, text, neighbours.package_rules)
        }),
        (outputs, &output_arguments::edits),
        (heads, &partial_heads::edits),
        (regexes, &regex_literals::edits),
        (patterns, &object_patterns::edits),
        (loops, &|module, text| {
            some_in_loops::edits(module, text, neighbours.package_rules)
        }),
        (minus, &unary_minus::edits),
        (durations, &duration_literals::edits),
        (arithmetic, &|module, text| {
            let hazards = |text: &str| {
                let module = parse(text)?;
                Some(
                    module
                        .policy
                        .iter()
                        .map(|r| unchecked_values::find(r))
                        .collect(),
                )
            };
            arithmetic_operands::edits(module, text, neighbours.package_rules, &hazards)
        }),
    ];
    for (applies, edits) in steps {
        if applies
            && let Some(moved) = splice::apply(&text, edits(&module, &text))
            && let Some(reparsed) = parse(&moved)
        {
            text = moved;
            module = reparsed;
        }
    }
    if others {
        // With `future.keywords.not`, OPA leaves a negated call's arguments inside the `not`,
        // as regorus does.
        let mut edits = if crate::bundle::imports_future_not(&text) {
            Vec::new()
        } else {
            negation::edits(&module, &text)
        };
        edits.extend(with_builtins::edits(&module, &text));
        if let Some(rewritten) = splice::apply(&text, edits) {
            text = rewritten;
        }
    }
    text
}

/// Every module and the merged data of `bundles` in one prepared engine.
fn load_engine(
    bundles: &[Arc<Bundle>],
    options: CompileOptions,
) -> Result<(Engine, Value, RuleGraph), CompileError> {
    let mut engine = new_engine(options.limits);
    options.sources.apply(&mut engine);
    let ids: Vec<String> = bundles
        .iter()
        .flat_map(|b| b.modules.iter().map(|m| module_id(b, &m.file)))
        .collect();
    let all_modules = || bundles.iter().flat_map(|b| b.modules.iter());
    // Before regorus parses anything: its parser is exponential in the nesting. A deep literal
    // that is plain JSON is read through json.unmarshal instead; anything else is refused.
    let max_nesting = options.sources.max_nesting;
    let mut texts: Vec<std::borrow::Cow<'_, str>> = Vec::new();
    for (module, id) in all_modules().zip(&ids) {
        let text =
            nesting::readable(&module.text, max_nesting).map_err(|deep| CompileError::Rego {
                message: deep.located(id),
            })?;
        texts.push(text);
    }
    // rego.metadata.rule()/chain() become constants (regorus has neither builtin).
    let sources: Vec<metadata::Source<'_>> = all_modules()
        .zip(&ids)
        .zip(&texts)
        .map(|((m, id), text)| metadata::Source {
            id,
            text,
            rego_v0: m.rego_v0,
        })
        .collect();
    let inlined = metadata::inline(&sources).map_err(|message| CompileError::Rego { message })?;
    let package_rules = comprehension_scopes::package_rule_names(texts.iter().map(|t| t.as_ref()));
    let ref_heads = import_aliases::ref_head_paths(texts.iter().map(|t| t.as_ref()));
    let prepared = all_modules().zip(&ids).zip(inlined).zip(&texts);
    for ((((module, id), inlined), text), rules) in prepared.zip(&package_rules) {
        engine.set_rego_v0(module.rego_v0);
        let source = inlined.as_deref().unwrap_or(text);
        let neighbours = Neighbours {
            package_rules: rules,
            ref_heads: &ref_heads,
        };
        let text = rewritten_text(id, source, module.rego_v0, neighbours, options);
        engine
            .add_policy(id.clone(), text)
            .map_err(|e| CompileError::Rego {
                message: SourceLimits::explain(e.to_string().trim().to_string()),
            })?;
    }
    engine.set_rego_v0(false);
    let parsed = engine.get_modules().clone();
    let modules = || parsed.iter().map(|m| m.as_ref());
    // regorus would load a wrong-arity extension call and fail every decision on it.
    calls::check_arity(modules())
        .and_then(|()| unary_minus::check(modules()))
        .map_err(|message| CompileError::Rego {
            message: message.trim().to_string(),
        })?;
    // regorus's interpreter would overflow its stack on the first decision that reaches a
    // cycle; OPA refuses the bundle, and so does authzd.
    let graph = RuleGraph::build(modules());
    graph
        .check_recursion()
        .and_then(|()| graph.check_depth(options.sources.max_rule_depth))
        .map_err(|message| CompileError::Rego { message })?;
    // regorus would fail every decision that reaches a call to a function that does not
    // exist (HTTP 500); OPA refuses the bundle at compile time, and so does authzd.
    let mut unknown = calls::unknown_functions(modules(), &graph);
    if !unknown.is_empty() {
        unknown.truncate(MAX_LOAD_ERRORS);
        return Err(CompileError::UndefinedFunctions(unknown));
    }

    let data = merged_data(bundles)?;
    engine
        .add_data(data.clone())
        .map_err(|e| CompileError::Data {
            message: e.to_string(),
        })?;
    Ok((engine, data, graph))
}

/// The snapshot's rules, which of them run on the RVM, and the program that holds those.
#[derive(Default)]
struct Planned {
    rules: Vec<RuleEntry>,
    program: Option<Arc<regorus::rvm::program::Program>>,
    fallbacks: Vec<(String, String)>,
}

fn plan_rules(
    policy: &regorus::CompiledPolicy,
    listed: &ListedRules,
    use_rvm: bool,
    graph: &RuleGraph,
    data: &Value,
    modules: &HashMap<String, usize>,
) -> Planned {
    let mut functions = HashSet::new();
    let mut paths: Vec<String> = listed.defaults.clone();
    for (path, definitions) in policy.get_rules() {
        if definitions.iter().any(|d| is_function(d.as_ref())) {
            functions.insert(path.clone());
        }
        paths.push(path.clone());
    }
    functions.extend(listed.default_functions.iter().cloned());
    paths.sort();
    paths.dedup();
    // regorus also lists each ref head's prefix (`data.t.v` for `v.a := 1`) as a rule, which
    // its own evaluation then refuses (`not a valid rule path`). Such a path is a document made
    // of the rules below it (see `decide`), not a rule.
    let own: HashSet<&String> = listed.entries.iter().chain(&listed.defaults).collect();
    let segmented: Vec<Vec<String>> = paths
        .iter()
        .map(|p| parse_ref(p).unwrap_or_default())
        .collect();
    let prefixes: HashSet<&[String]> = segmented
        .iter()
        .flat_map(|s| (1..s.len()).map(move |end| &s[..end]))
        .collect();
    let kept: Vec<String> = paths
        .iter()
        .zip(&segmented)
        .filter(|(path, segments)| own.contains(path) || !prefixes.contains(segments.as_slice()))
        .map(|(path, _)| path.clone())
        .collect();
    let paths = kept;
    let documents: Vec<String> = paths
        .iter()
        .filter(|p| !functions.contains(*p))
        .cloned()
        .collect();
    let mut guards = std::collections::BTreeMap::new();
    let plan = if use_rvm {
        // What the RVM is known to get wrong stays on the interpreter; the rest is compiled.
        let candidates: Vec<(String, Vec<String>)> = documents
            .iter()
            .map(|p| (p.clone(), parse_ref(p).unwrap_or_default()))
            .collect();
        let assessment = routing::assess(graph, data, &candidates);
        let unsafe_rules: HashSet<&String> =
            assessment.interpreter.iter().map(|(r, _)| r).collect();
        let safe: Vec<String> = documents
            .iter()
            .filter(|p| !unsafe_rules.contains(p))
            .cloned()
            .collect();
        let mut plan = rvm_plan::plan(policy, &safe, data);
        plan.fallbacks.extend(assessment.interpreter);
        guards = assessment.guards;
        plan
    } else {
        rvm_plan::RvmPlan {
            fallbacks: documents
                .iter()
                .map(|p| (p.clone(), "RVM disabled".to_string()))
                .collect(),
            ..Default::default()
        }
    };
    let rules = paths
        .iter()
        .map(|p| RuleEntry {
            path: p.clone(),
            segments: parse_ref(p).unwrap_or_default(),
            rvm_entry: plan.entries.get(p).copied(),
            rvm_guard: guards.get(p).cloned().unwrap_or_default(),
            is_function: functions.contains(p),
            index: 0,
            bundle: None,
            fingerprint: 0,
        })
        .filter(|r| !r.segments.is_empty())
        .enumerate()
        .map(|(index, mut rule)| {
            rule.index = index;
            let node = graph.node(&rule.segments);
            rule.fingerprint = node.map_or(0, |n| n.fingerprint);
            rule.bundle = node.and_then(|n| modules.get(&n.file).copied());
            rule
        })
        .collect();
    Planned {
        rules,
        program: plan.program,
        fallbacks: plan.fallbacks,
    }
}

fn new_engine(limits: EvalLimits) -> Engine {
    let mut engine = Engine::new();
    engine.set_execution_timer_config(timer_config(limits));
    // Only a duplicate name fails, and the builtins' unit tests rule that out.
    if let Err(e) = crate::builtins::register(&mut engine) {
        tracing::error!(error = %e, "cannot register authzd's builtins");
    }
    engine
}

/// The regorus time-limit setting for `limits`.
pub(crate) fn timer_config(limits: EvalLimits) -> regorus::utils::limits::ExecutionTimerConfig {
    regorus::utils::limits::ExecutionTimerConfig {
        limit: limits.timeout,
        check_interval: std::num::NonZeroU32::MIN.saturating_add(63),
    }
}

fn module_id(bundle: &Bundle, file: &str) -> String {
    let source = bundle.source.display().to_string();
    if bundle.source.is_dir() {
        format!("{}/{file}", source.trim_end_matches('/'))
    } else {
        format!("{source}:{file}")
    }
}

fn check_roots(bundles: &[Arc<Bundle>]) -> Result<(), CompileError> {
    for (i, a) in bundles.iter().enumerate() {
        for b in bundles.iter().skip(i + 1) {
            if let Some((root_a, root_b)) = a.manifest.overlapping_root(&b.manifest) {
                return Err(CompileError::RootsOverlap {
                    a: a.name.clone(),
                    b: b.name.clone(),
                    root_a: root_a.to_string(),
                    root_b: root_b.to_string(),
                });
            }
        }
    }
    Ok(())
}

/// All bundles' data as one regorus value. Roots do not overlap, so the top-level documents
/// of each bundle merge without copying: each bundle's documents are shared, not converted.
fn merged_data(bundles: &[Arc<Bundle>]) -> Result<Value, CompileError> {
    let mut merged = Value::new_object();
    for bundle in bundles {
        merge_value(&mut merged, &bundle.data).map_err(|message| CompileError::Data { message })?;
    }
    Ok(merged)
}

fn merge_value(into: &mut Value, from: &Value) -> Result<(), String> {
    let Value::Object(incoming) = from else {
        return Err("a bundle's data must be an object".into());
    };
    let existing = into
        .as_object_mut()
        .map_err(|_| "data documents of two bundles collide".to_string())?;
    for (key, member) in incoming.iter() {
        match existing.get_mut(key) {
            Some(slot @ Value::Object(_)) if matches!(member, Value::Object(_)) => {
                merge_value(slot, member)?;
            }
            Some(_) => return Err(format!("two bundles define data at {key}")),
            None => {
                existing.insert(key.clone(), member.clone());
            }
        }
    }
    Ok(())
}

/// Builds regorus' compiled policy (the RVM compiler's input). Preparing it also runs regorus'
/// semantic checks (unsafe variables, recursion), so they fail the load, not a request.
fn compiled_policy(
    engine: &mut Engine,
    entries: &[String],
) -> Result<Option<regorus::CompiledPolicy>, CompileError> {
    let mut last_error = None;
    for entry in entries {
        match engine.compile_with_entrypoint(&entry.as_str().into()) {
            Ok(policy) => return Ok(Some(policy)),
            // A rule whose ref head has a variable before its last segment (`svc[name].allow`)
            // is no entry point to regorus; another rule may be, and a bundle of only such
            // rules runs on the interpreter.
            Err(e) if e.to_string().trim() == "not a valid rule path" => {}
            Err(e) => last_error = Some(e.to_string().trim().to_string()),
        }
    }
    match last_error {
        Some(message) => Err(CompileError::Rego { message }),
        None => Ok(None),
    }
}

struct ListedRules {
    /// Rule paths that can serve as the entry point of regorus' compiled policy.
    entries: Vec<String>,
    /// Rules that only have a `default` definition do not appear in regorus' rule map.
    defaults: Vec<String>,
    default_functions: Vec<String>,
}

fn list_rules(engine: &mut Engine) -> Result<ListedRules, CompileError> {
    let mut listed = ListedRules {
        entries: Vec::new(),
        defaults: Vec::new(),
        default_functions: Vec::new(),
    };
    for module in engine.get_modules().iter() {
        let package =
            regorus::utils::get_path_string(&module.package.refr, Some("data")).map_err(|e| {
                CompileError::Rego {
                    message: e.to_string(),
                }
            })?;
        for rule in &module.policy {
            let refr = match rule.as_ref() {
                Rule::Default { refr, .. } => refr,
                Rule::Spec { head, .. } => match head {
                    RuleHead::Compr { refr, .. }
                    | RuleHead::Set { refr, .. }
                    | RuleHead::Func { refr, .. } => refr,
                },
            };
            let Ok(name) = regorus::utils::get_path_string(refr, None) else {
                continue;
            };
            let path = if name.starts_with('[') {
                format!("{package}{name}")
            } else {
                format!("{package}.{name}")
            };
            if let Rule::Default { args, .. } = rule.as_ref() {
                if args.is_empty() {
                    listed.defaults.push(path.clone());
                } else {
                    listed.default_functions.push(path.clone());
                }
            }
            if !is_function(rule.as_ref()) {
                listed.entries.push(path);
            }
        }
    }
    Ok(listed)
}
