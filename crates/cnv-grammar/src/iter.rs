//! Walking every verb of a grammar with the nouns that lead to it, without allocating.

use core::fmt;

use alloc::string::String;

use crate::rules::MAX_NOUN_DEPTH;
use crate::{GrammarNoun, GrammarVerb};

/// The nouns that lead to a verb, outermost first, e.g. `cloud bucket`. `Copy`, and
/// printed with spaces between the names.
#[derive(Clone, Copy)]
pub struct NounPath<'a> {
    nouns: [Option<&'a GrammarNoun>; MAX_NOUN_DEPTH],
    len: usize,
}

impl<'a> NounPath<'a> {
    const EMPTY: Self = Self {
        nouns: [None; MAX_NOUN_DEPTH],
        len: 0,
    };

    /// How many nouns (at least one for a verb's path).
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the path has no noun (never the case for a verb's path).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The nouns, outermost first.
    #[must_use = "iterators are lazy"]
    pub fn nouns(&self) -> impl DoubleEndedIterator<Item = &'a GrammarNoun> + '_ {
        self.nouns[..self.len].iter().flatten().copied()
    }

    /// The nouns' names, outermost first.
    #[must_use = "iterators are lazy"]
    pub fn names(&self) -> impl DoubleEndedIterator<Item = &'a str> + '_ {
        self.nouns().map(GrammarNoun::name)
    }

    /// The name of the MCP tool of `verb`, one of this path's verbs: its declared
    /// `mcp_name`, or else the command's words joined by `_` with each `-` written `_`
    /// ([`rules::tool_name`](crate::rules::tool_name): `env show-token` is
    /// `env_show_token`). Tools are named, and found back by name
    /// ([`GrammarModel::find_tool`](crate::GrammarModel::find_tool)), by this one rule.
    #[must_use]
    pub fn tool_name(&self, verb: &GrammarVerb) -> String {
        match verb.mcp_name() {
            Some(name) => name.into(),
            None => crate::rules::tool_name(self.names().chain([verb.name()])),
        }
    }

    /// The command of `verb`, one of this path's verbs: the nouns' names and then the
    /// verb's, separated by single spaces (`"cloud bucket list"`). Handlers are bound to
    /// it, audit entries and refusals name it; its words joined by `_` are the verb's MCP
    /// tool name.
    #[must_use]
    pub fn command(&self, verb: &GrammarVerb) -> String {
        let mut command = String::new();
        for name in self.names().chain([verb.name()]) {
            if !command.is_empty() {
                command.push(' ');
            }
            command.push_str(name);
        }
        command
    }

    /// The innermost noun: the one that declares the verb.
    #[must_use]
    pub fn last(&self) -> Option<&'a GrammarNoun> {
        self.len.checked_sub(1).and_then(|i| self.nouns[i])
    }
}

impl fmt::Debug for NounPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

/// `cloud bucket`: the names separated by single spaces.
impl fmt::Display for NounPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, name) in self.names().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

impl PartialEq for NounPath<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.names().eq(other.names())
    }
}

impl Eq for NounPath<'_> {}

/// A position in one noun: how many of its verbs and nested nouns were visited.
#[derive(Clone, Copy)]
struct Frame<'a> {
    noun: &'a GrammarNoun,
    next_verb: usize,
    next_noun: usize,
}

/// The iterator of [`GrammarModel::verbs`](crate::GrammarModel::verbs): every verb with
/// its [`NounPath`], depth first.
///
/// ```
/// use cnv_caps::CapabilityContract;
/// use cnv_grammar::{GrammarModel, GrammarNoun, GrammarVerb};
///
/// let grammar = GrammarModel::new("cloudctl").with_noun(
///     GrammarNoun::new("cloud", "Cloud resources")
///         .with_verb(GrammarVerb::new("status", "Show status", CapabilityContract::network()))
///         .with_noun(GrammarNoun::new("bucket", "Buckets").with_verb(GrammarVerb::new(
///             "list",
///             "List buckets",
///             CapabilityContract::network(),
///         ))),
/// );
/// let commands: Vec<String> = grammar
///     .verbs()
///     .map(|(path, verb)| format!("{path} {}", verb.name()))
///     .collect();
/// assert_eq!(commands, ["cloud status", "cloud bucket list"]);
/// ```
#[derive(Clone)]
pub struct Verbs<'a> {
    roots: &'a [GrammarNoun],
    next_root: usize,
    stack: [Option<Frame<'a>>; MAX_NOUN_DEPTH],
    depth: usize,
}

impl<'a> Verbs<'a> {
    pub(crate) fn new(roots: &'a [GrammarNoun]) -> Self {
        Self {
            roots,
            next_root: 0,
            stack: [None; MAX_NOUN_DEPTH],
            depth: 0,
        }
    }

    fn path(&self) -> NounPath<'a> {
        let mut path = NounPath::EMPTY;
        for (slot, frame) in path.nouns.iter_mut().zip(&self.stack[..self.depth]) {
            *slot = frame.map(|frame| frame.noun);
        }
        path.len = self.depth;
        path
    }

    fn push(&mut self, noun: &'a GrammarNoun) {
        if let Some(slot) = self.stack.get_mut(self.depth) {
            *slot = Some(Frame {
                noun,
                next_verb: 0,
                next_noun: 0,
            });
            self.depth += 1;
        }
    }
}

impl<'a> Iterator for Verbs<'a> {
    type Item = (NounPath<'a>, &'a GrammarVerb);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let Some(top) = self.depth.checked_sub(1) else {
                let root = self.roots.get(self.next_root)?;
                self.next_root += 1;
                self.push(root);
                continue;
            };
            let Some(frame) = self.stack[top].as_mut() else {
                // Frames below `depth` are always set; an empty one ends this level.
                self.depth = top;
                continue;
            };
            if let Some(verb) = frame.noun.verbs().get(frame.next_verb) {
                frame.next_verb += 1;
                return Some((self.path(), verb));
            }
            if let Some(child) = frame.noun.nouns().get(frame.next_noun) {
                frame.next_noun += 1;
                if self.depth < MAX_NOUN_DEPTH {
                    self.push(child);
                }
                continue;
            }
            self.stack[top] = None;
            self.depth = top;
        }
    }
}

impl fmt::Debug for Verbs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verbs")
            .field("at", &self.path())
            .finish_non_exhaustive()
    }
}

impl core::iter::FusedIterator for Verbs<'_> {}
