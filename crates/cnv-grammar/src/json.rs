//! The JSON form of the model (feature `serde`): the wire form of an argument, loading
//! a model from JSON with validation, and the MCP `tools/list` export.
//!
//! The field names are documented in `docs/grammar-json.md`.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde_json::{Map, Value, json};

use crate::value::Scalar;
use crate::{
    ArgumentKind, GrammarArgument, GrammarErrors, GrammarModel, GrammarVerb, NounPath, Text,
};

/// An argument as it is written in JSON: flat fields, `positional` and `short` instead
/// of an enum, so a hand-written file reads like the DSL.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ArgumentFields {
    name: Text,
    value_type: Text,
    help: Text,
    #[serde(default)]
    positional: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    short: Option<char>,
    required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    default: Option<Text>,
    #[serde(default)]
    multiple: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    env: Option<Text>,
    #[serde(default, skip_serializing_if = "<[Text]>::is_empty")]
    values: alloc::vec::Vec<Text>,
}

/// A JSON argument that is positional and has a short flag.
#[derive(Debug)]
pub(crate) struct PositionalWithShort;

impl fmt::Display for PositionalWithShort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a positional argument cannot have a short flag; remove `short` or set `positional` to false")
    }
}

impl TryFrom<ArgumentFields> for GrammarArgument {
    type Error = PositionalWithShort;

    fn try_from(fields: ArgumentFields) -> Result<Self, Self::Error> {
        let kind = match (fields.positional, fields.short) {
            (true, Some(_)) => return Err(PositionalWithShort),
            (true, None) => ArgumentKind::Positional,
            (false, short) => ArgumentKind::Named { short },
        };
        Ok(Self {
            name: fields.name,
            value_type: fields.value_type,
            help: fields.help,
            kind,
            required: fields.required,
            default: fields.default,
            multiple: fields.multiple,
            env: fields.env,
            values: fields.values.into(),
        })
    }
}

impl From<GrammarArgument> for ArgumentFields {
    fn from(arg: GrammarArgument) -> Self {
        let (positional, short) = match arg.kind {
            ArgumentKind::Positional => (true, None),
            ArgumentKind::Named { short } => (false, short),
        };
        Self {
            name: arg.name,
            value_type: arg.value_type,
            help: arg.help,
            positional,
            short,
            required: arg.required,
            default: arg.default,
            multiple: arg.multiple,
            env: arg.env,
            values: arg.values.into_owned(),
        }
    }
}

/// Why [`GrammarModel::from_json`] refused a document.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The text is not a grammar document (bad JSON, a missing or unknown field, an
    /// unknown capability name, a contract that contradicts itself).
    #[error("not a valid grammar document: {0}")]
    Json(#[from] serde_json::Error),
    /// The document is well-formed but the grammar breaks the rules.
    #[error(transparent)]
    Invalid(#[from] GrammarErrors),
}

/// The MCP protocol revision whose `tools/list` result shape
/// [`GrammarModel::to_mcp_tools`] follows.
pub const MCP_PROTOCOL_VERSION: &str = "2025-11-25";

impl GrammarModel {
    /// Loads a grammar from its JSON form (see `docs/grammar-json.md`) and
    /// [validates](Self::validate) it.
    ///
    /// # Errors
    ///
    /// [`LoadError::Json`] when the text is not a grammar document,
    /// [`LoadError::Invalid`] with every problem when the grammar breaks a rule.
    pub fn from_json(json: &str) -> Result<Self, LoadError> {
        let model: Self = serde_json::from_str(json)?;
        model.validate()?;
        Ok(model)
    }

    /// The grammar as an MCP `tools/list` result: `{"tools": [...]}` with one tool per
    /// verb.
    ///
    /// * `name` is the command's words joined by `_` (`file_read`, `cloud_bucket_list`;
    ///   names never contain `_`, so the join is unambiguous), `title` the words joined by
    ///   spaces.
    /// * `description` is the help, then the long help and the deprecation note, each
    ///   after a blank line.
    /// * `inputSchema` is a JSON Schema object with one property per argument (see
    ///   `docs/grammar-json.md` for the types), `required` listing the required ones.
    /// * `annotations` follow from the capability class: `readOnlyHint`,
    ///   `destructiveHint`, `idempotentHint` and `openWorldHint` as
    ///   [`CapabilityClass`](cnv_caps::CapabilityClass) defines them.
    /// * `_meta` carries the whole contract under `cnv/contract` (capability, resource,
    ///   safety, stability), and `cnv/risk` its risk score.
    ///
    /// The result validates against `#/$defs/ListToolsResult` of the MCP schema
    /// (revision [`MCP_PROTOCOL_VERSION`]).
    #[must_use]
    pub fn to_mcp_tools(&self) -> Value {
        let tools: Vec<Value> = self
            .verbs()
            .map(|(path, verb)| mcp_tool(path, verb, &self.args))
            .collect();
        json!({ "tools": tools })
    }
}

fn mcp_tool(path: NounPath<'_>, verb: &GrammarVerb, globals: &[GrammarArgument]) -> Value {
    let words: Vec<&str> = path.names().chain([verb.name()]).collect();
    let mut description = verb.help().to_string();
    if let Some(long_help) = verb.long_help() {
        description.push_str("\n\n");
        description.push_str(long_help);
    }
    if let Some(note) = verb.deprecation() {
        description.push_str("\n\nDeprecated: ");
        description.push_str(note);
    }
    let mut properties = Map::new();
    let mut required = Vec::new();
    // The program's global arguments are every tool's too (none is required).
    for arg in verb.args().iter().chain(globals) {
        properties.insert(arg.name().to_string(), argument_schema(arg));
        if arg.is_required() {
            required.push(Value::from(arg.name()));
        }
    }
    let contract = verb.contract();
    let class = contract.class();
    json!({
        "name": words.join("_"),
        "title": words.join(" "),
        "description": description,
        "inputSchema": {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        },
        "annotations": {
            "title": words.join(" "),
            "readOnlyHint": class.read_only_hint(),
            "destructiveHint": class.destructive_hint(),
            "idempotentHint": class.idempotent_hint(),
            "openWorldHint": class.open_world_hint(),
        },
        "_meta": {
            "cnv/contract": contract,
            "cnv/risk": contract.risk_score(),
        },
    })
}

/// The JSON Schema of one argument's value (an array of them when repeatable).
fn argument_schema(arg: &GrammarArgument) -> Value {
    let scalar = Scalar::of(arg.value_type());
    let mut value = Map::new();
    let json_type = match scalar {
        _ if scalar.is_unsigned() || scalar.is_signed() => "integer",
        Scalar::F32 | Scalar::F64 => "number",
        Scalar::Bool => "boolean",
        _ => "string",
    };
    value.insert("type".into(), json_type.into());
    if !arg.possible_values().is_empty() {
        let values: Vec<Value> = arg
            .possible_values()
            .iter()
            .filter_map(|text| typed_default(scalar, text))
            .collect();
        value.insert("enum".into(), Value::Array(values));
    }
    if scalar.is_unsigned() {
        value.insert("minimum".into(), 0.into());
    } else if scalar == Scalar::Char {
        value.insert("minLength".into(), 1.into());
        value.insert("maxLength".into(), 1.into());
    }
    let mut schema = if arg.is_multiple() {
        let mut array = Map::new();
        array.insert("type".into(), "array".into());
        array.insert("items".into(), Value::Object(value));
        array
    } else {
        value
    };
    schema.insert("description".into(), arg.help().into());
    if let Some(default) = arg
        .default_value()
        .and_then(|text| typed_default(scalar, text))
    {
        schema.insert("default".into(), default);
    }
    schema.insert("x-cnv-value-type".into(), arg.value_type().into());
    if !arg.is_positional() {
        schema.insert("x-cnv-flag".into(), flag(arg).into());
    }
    Value::Object(schema)
}

/// The flag as typed on a command line: `--timeout-ms` or `-t, --timeout-ms`.
fn flag(arg: &GrammarArgument) -> String {
    match arg.short() {
        Some(short) => alloc::format!("-{short}, --{}", arg.name()),
        None => alloc::format!("--{}", arg.name()),
    }
}

/// A default value as JSON of the argument's type (`500`, not `"500"`), or `None` when
/// JSON cannot hold it as that type: an integer beyond 64 bits, a float that is NaN or
/// infinite, or a text that does not parse (which [`GrammarModel::validate`] reports).
/// Such a default is left out of the schema rather than written as a string under
/// `"type": "integer"`; the command line still applies it.
fn typed_default(scalar: Scalar, default: &str) -> Option<Value> {
    match scalar {
        _ if scalar.is_unsigned() => default.parse::<u64>().ok().map(Value::from),
        _ if scalar.is_signed() => default.parse::<i64>().ok().map(Value::from),
        Scalar::F32 | Scalar::F64 => default
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number),
        Scalar::Bool => default.parse::<bool>().ok().map(Value::from),
        _ => Some(Value::String(default.to_string())),
    }
}
