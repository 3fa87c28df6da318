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
    ValueRange,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value_name: Option<Text>,
    #[serde(default, skip_serializing_if = "<[Text]>::is_empty")]
    aliases: alloc::vec::Vec<Text>,
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    counted: bool,
    #[serde(default, skip_serializing_if = "<[Text]>::is_empty")]
    conflicts_with: alloc::vec::Vec<Text>,
    #[serde(default, skip_serializing_if = "<[Text]>::is_empty")]
    requires: alloc::vec::Vec<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    range: Option<ValueRange>,
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    hidden: bool,
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    mcp: bool,
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
            value_name: fields.value_name,
            aliases: fields.aliases.into(),
            counted: fields.counted,
            conflicts_with: fields.conflicts_with.into(),
            requires: fields.requires.into(),
            range: fields.range,
            hidden: fields.hidden,
            mcp: fields.mcp,
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
            value_name: arg.value_name,
            aliases: arg.aliases.into_owned(),
            counted: arg.counted,
            conflicts_with: arg.conflicts_with.into_owned(),
            requires: arg.requires.into_owned(),
            range: arg.range,
            hidden: arg.hidden,
            mcp: arg.mcp,
        }
    }
}

/// A verb's output schema: JSON text in the model, a JSON value in the grammar's JSON
/// form (so a document shows the schema itself, not a string holding it).
pub(crate) mod schema_text {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use serde_json::Value;

    use crate::Text;

    #[expect(
        clippy::ref_option,
        reason = "serde's `with` hands the field by reference"
    )]
    pub(crate) fn serialize<S: Serializer>(
        schema: &Option<Text>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match schema.as_deref().map(serde_json::from_str::<Value>) {
            Some(Ok(value)) => value.serialize(serializer),
            // Not JSON (`validate` refuses it): kept as the text it is.
            Some(Err(_)) => schema.serialize(serializer),
            None => serializer.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Text>, D::Error> {
        Ok(match Option::<Value>::deserialize(deserializer)? {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(text.into()),
            Some(value) => Some(value.to_string().into()),
        })
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
    /// * `name` is the verb's `mcp_name`, or else the command's words joined by `_` with
    ///   each `-` written `_` (`file_read`, `env_show_token`: one rule,
    ///   [`NounPath::tool_name`]); `title` the verb's title, or else its help.
    /// * `description` is the help, then the long help and the deprecation note, each
    ///   after a blank line.
    /// * `inputSchema` is a JSON Schema object with one property per argument that is not
    ///   hidden (see `docs/grammar-json.md` for the types), and per global argument
    ///   declared for MCP; `required` lists the required ones, `dependentRequired` what
    ///   each argument requires.
    /// * `outputSchema` is the verb's output schema, when it declares one.
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
    let mut dependent = Map::new();
    // The program's global arguments are a tool's only when declared for MCP (none is
    // required); hidden arguments are nobody's to see.
    let args = verb
        .args()
        .iter()
        .chain(globals.iter().filter(|arg| arg.is_in_mcp()))
        .filter(|arg| !arg.is_hidden());
    let listed: Vec<&str> = args.clone().map(GrammarArgument::name).collect();
    for arg in args {
        properties.insert(arg.name().to_string(), argument_schema(arg));
        if arg.is_required() {
            required.push(Value::from(arg.name()));
        }
        let requires: Vec<Value> = arg
            .requirements()
            .iter()
            .filter(|name| listed.contains(&name.as_ref()))
            .map(|name| Value::from(name.as_ref()))
            .collect();
        if !requires.is_empty() {
            dependent.insert(arg.name().to_string(), Value::Array(requires));
        }
    }
    let mut input = Map::new();
    input.insert("type".into(), "object".into());
    input.insert("properties".into(), Value::Object(properties));
    input.insert("required".into(), Value::Array(required));
    if !dependent.is_empty() {
        input.insert("dependentRequired".into(), Value::Object(dependent));
    }
    let groups: Vec<Value> = verb
        .groups()
        .iter()
        .map(|group| {
            json!({
                "name": group.name(),
                "args": group.args(),
                "required": group.is_required(),
                "multiple": group.is_multiple(),
            })
        })
        .collect();
    if !groups.is_empty() {
        input.insert("x-cnv-groups".into(), Value::Array(groups));
    }
    input.insert("additionalProperties".into(), false.into());
    let contract = verb.contract();
    let class = contract.class();
    let mut tool = json!({
        "name": path.tool_name(verb),
        "title": verb.title(),
        "description": description,
        "inputSchema": input,
        "annotations": {
            "title": verb.title(),
            "readOnlyHint": class.read_only_hint(),
            "destructiveHint": class.destructive_hint(),
            "idempotentHint": class.idempotent_hint(),
            "openWorldHint": class.open_world_hint(),
        },
        "_meta": {
            "cnv/contract": contract,
            "cnv/risk": contract.risk_score(),
        },
    });
    // A schema that is not JSON is left out (`validate` refuses it).
    if let Some(schema) = verb
        .output_schema()
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
    {
        tool["outputSchema"] = schema;
    }
    tool
}

/// The JSON Schema of one argument's value (an array of them when repeatable).
fn argument_schema(arg: &GrammarArgument) -> Value {
    let scalar = Scalar::of(arg.value_type());
    let mut value = Map::new();
    let json_type = match scalar {
        _ if arg.is_counted() || scalar.is_integer() => "integer",
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
    if arg.is_counted() {
        // How many times the switch is given: `-vvv` is 3.
        value.insert("minimum".into(), 0.into());
        value.insert("maximum".into(), u8::MAX.into());
    } else if scalar.is_integer() {
        bounds(scalar, arg.range(), &mut value);
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
    if arg.is_counted() {
        schema.insert("default".into(), 0.into());
    } else if let Some(default) = arg
        .default_value()
        .and_then(|text| typed_default(scalar, text))
    {
        schema.insert("default".into(), default);
    }
    schema.insert("x-cnv-value-type".into(), arg.value_type().into());
    if !arg.is_positional() {
        schema.insert("x-cnv-flag".into(), flag(arg).into());
    }
    if !arg.conflicts().is_empty() {
        schema.insert("x-cnv-conflicts-with".into(), arg.conflicts().into());
    }
    Value::Object(schema)
}

/// `minimum` and `maximum` of an integer: its range's bounds, or 0 for an unsigned type
/// (a bound JSON cannot hold as a 64-bit integer is left out).
fn bounds(scalar: Scalar, range: Option<ValueRange>, value: &mut Map<String, Value>) {
    let number = |bound: i128| {
        i64::try_from(bound)
            .map(Value::from)
            .or_else(|_| u64::try_from(bound).map(Value::from))
            .ok()
    };
    let min = range
        .and_then(|range| range.min())
        .or_else(|| scalar.is_unsigned().then_some(0));
    if let Some(min) = min.and_then(number) {
        value.insert("minimum".into(), min);
    }
    if let Some(max) = range.and_then(|range| range.max()).and_then(number) {
        value.insert("maximum".into(), max);
    }
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
