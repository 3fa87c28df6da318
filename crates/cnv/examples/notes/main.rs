//! `notes`: the tool the guide's "your first CLI" chapter builds. Notes are text files in
//! a folder of the operator's workspace (`CNV_WORKSPACE`, default the current directory).
//!
//! ```text
//! cargo run -p cnv --example notes -- note add groceries --body "milk, bread"
//! cargo run -p cnv --example notes -- -v note list --sort size
//! CNV_AGENT=1 cargo run -p cnv --example notes -- note add todo --body "call Bob"   # refused: agents justify writes
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use cnv::prelude::*;
use serde_json::json;

mod grammar;
use grammar::{GRAMMAR, Sort, note};

fn main() -> ExitCode {
    match notes() {
        Ok(cli) => cli.run(),
        Err(errors) => {
            eprintln!("{errors}");
            ExitCode::FAILURE
        }
    }
}

/// The command line: one typed handler per verb.
fn notes() -> Result<Cli, cnv::cli::BuildErrors> {
    Cli::builder(&GRAMMAR)
        .bind(add)
        .bind(list)
        .bind(show)
        .bind(delete)
        .build()
}

/// The file of the note `title` in `folder`; a title is one file name, never a path.
fn file_of(folder: &str, title: &str) -> Result<PathBuf, HandlerError> {
    if title.is_empty() || title.contains(['/', '\\']) || title.starts_with('.') {
        return Err(HandlerError::msg(format!(
            "`{title}` is not a note title: use a name without `/` that does not start with `.`"
        )));
    }
    Ok(PathBuf::from(folder).join(format!("{title}.txt")))
}

fn add(call: &Invocation<'_, ReadWriteFS>, args: note::Add) -> Result<Output, HandlerError> {
    let workspace = call.workspace()?;
    let path = file_of(&args.folder, &args.title)?;
    workspace.create_dir_all(&args.folder)?;
    workspace.write(&path, args.body.as_bytes())?;
    if args.verbose > 0 {
        eprintln!("wrote {} bytes to {}", args.body.len(), path.display());
    }
    Ok(Output::text(format!("added {}", args.title))
        .with_data(json!({ "title": args.title, "bytes": args.body.len() })))
}

fn list(call: &Invocation<'_, ReadOnlyFS>, args: note::List) -> Result<Output, HandlerError> {
    let workspace = call.workspace()?;
    let mut notes: Vec<(String, u64)> = match workspace.read_dir(&args.folder) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                let title = name.strip_suffix(".txt")?.to_owned();
                let size = entry.metadata().ok()?.len();
                Some((title, size))
            })
            .collect(),
        // No folder yet: no notes.
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(err) => return Err(HandlerError::from(err).context(format!("listing {}", args.folder))),
    };
    match args.sort {
        Sort::Name => notes.sort(),
        Sort::Size => notes.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0))),
    }
    if args.verbose > 0 {
        eprintln!("{} notes in {}, by {}", notes.len(), args.folder, args.sort);
    }
    if args.verbose > 1 {
        for (title, size) in &notes {
            eprintln!("  {title}: {size} bytes");
        }
    }
    let text: Vec<String> = notes.iter().map(|(title, _)| title.clone()).collect();
    let data: Vec<_> = notes
        .iter()
        .map(|(title, size)| json!({ "title": title, "bytes": size }))
        .collect();
    Ok(Output::text(text.join("\n")).with_data(json!({ "notes": data })))
}

fn show(call: &Invocation<'_, ReadOnlyFS>, args: note::Show) -> Result<Output, HandlerError> {
    let path = file_of(&args.folder, &args.title)?;
    let text = call.workspace()?.read_to_string(&path).map_err(|err| {
        HandlerError::from(err).context(format!("reading the note {}", args.title))
    })?;
    Ok(Output::text(text.clone()).with_data(json!({ "title": args.title, "body": text })))
}

fn delete(call: &Invocation<'_, ReadWriteFS>, args: note::Delete) -> Result<Output, HandlerError> {
    let path = file_of(&args.folder, &args.title)?;
    call.workspace()?.remove_file(&path).map_err(|err| {
        HandlerError::from(err).context(format!("deleting the note {}", args.title))
    })?;
    if args.verbose > 0 {
        eprintln!("removed {}", path.display());
    }
    Ok(Output::text(format!("deleted {}", args.title)).with_data(json!({ "title": args.title })))
}
