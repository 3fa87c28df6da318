//! The grammar of the `notes` example, in its own file so that its tests can use the same
//! constant: a global, counted `-v`, a folder that can come from the environment (declared
//! once, in a set every verb uses), a sort order with a fixed list of values, and a
//! routine write that no person confirms.

use cnv::prelude::*;

value_enum! {
    /// How `note list` orders the notes: the words a user types, and the type its
    /// handler receives.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) enum Sort {
        /// By title.
        Name = "name",
        /// Largest first.
        Size = "size",
    }
}

grammar_dsl! {
    /// Every command of the notes tool.
    pub(crate) static GRAMMAR = app "notes" version "0.1.0" help "Notes kept as text files in the operator's workspace" {
        args: [-v --verbose: u8 count "Say what each command does, on standard error (-vv: more)"],
        sets: [
            folder: [--folder: String = "notes" env "NOTES_FOLDER" "The folder of notes, in the workspace"],
        ],
        noun "note" help "Notes, one text file each" {
            verb "add" {
                capability: ReadWriteFS,
                resource: Fast,
                confirmation: Routine,
                help: "Add a note (or replace the one with the same title)",
                args: [
                    title: String "The note's title: its file name, without `.txt`",
                    --body: String "The text of the note",
                    ..folder,
                ],
            }
            verb "list" {
                capability: ReadOnlyFS,
                resource: Fast,
                help: "List the notes",
                args: [
                    --sort: Sort = "name" in Sort "How to order them",
                    ..folder,
                ],
            }
            verb "show" {
                capability: ReadOnlyFS,
                resource: Fast,
                help: "Print a note",
                args: [
                    title: String "The note's title",
                    ..folder,
                ],
            }
            verb "delete" {
                capability: ReadWriteFS,
                resource: Fast,
                help: "Delete a note (a person confirms)",
                args: [
                    title: String "The note's title",
                    ..folder,
                ],
            }
        }
    }
}
