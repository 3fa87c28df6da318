//! The person at an MCP client, asked through elicitation: the [`Supervisor`] of a call on
//! a server its operator runs supervised ([`McpSupervision::Elicit`](crate::McpSupervision)),
//! for a client that declared the `elicitation` capability (form mode).
//!
//! The gate asks it from the call's thread (of the blocking pool) while the call waits;
//! the question goes to the client as an `elicitation/create` request of the session the
//! call came in, and the call goes on with the answer. What the person sees is the
//! approval request as the gate words it (the command, its class, each argument and the
//! justification, escaped by `cnv_caps::text`), and a form of one field, `approve`, in which
//! they type the name of the class to approve it, as at a terminal.

use cnv_caps::text::escape_for_display;
use cnv_cli::{ApprovalError, ApprovalRequest, Supervisor};
use rmcp::RoleServer;
use rmcp::model::{ElicitRequestParams, ElicitationAction, ElicitationSchema};
use rmcp::service::{ElicitationMode, Peer, RequestContext};
use std::sync::Arc;
use tokio::runtime::Handle;
use tokio_util::sync::CancellationToken;

/// The field of the form in which the person types the class's name.
pub(crate) const ANSWER_FIELD: &str = "approve";

/// The person at one call's client.
#[derive(Debug)]
pub(crate) struct Elicitor {
    peer: Peer<RoleServer>,
    /// The server's runtime, on which the question is sent and the answer awaited.
    runtime: Handle,
    /// The client's cancel of the call: it ends the wait for an answer.
    cancelled: CancellationToken,
}

impl Elicitor {
    /// The person at the client of the request `context` is for, if the client declared
    /// it can ask its user with a form; `None` otherwise.
    pub(crate) fn of(context: &RequestContext<RoleServer>) -> Option<Arc<Self>> {
        let modes = context.peer.supported_elicitation_modes();
        if !modes.contains(&ElicitationMode::Form) {
            return None;
        }
        Some(Arc::new(Self {
            peer: context.peer.clone(),
            runtime: Handle::current(),
            cancelled: context.ct.clone(),
        }))
    }

    /// The form: one required text field in which the person types the class's name.
    fn form(class: &str) -> Result<ElicitationSchema, ApprovalError> {
        ElicitationSchema::builder()
            .required_string_with(ANSWER_FIELD, |field| {
                field
                    .title(format!("Type {class} to approve"))
                    .description(format!(
                        "The name of the capability the call asks for, `{class}`, approves it; \
                         anything else refuses it"
                    ))
            })
            .build()
            .map_err(|err| ApprovalError::Unreachable {
                reason: format!("the question could not be made: {err}"),
            })
    }
}

impl Supervisor for Elicitor {
    fn ask(&self, request: &ApprovalRequest<'_>) -> Result<String, ApprovalError> {
        let class = request.to().name();
        let params = ElicitRequestParams::FormElicitationParams {
            meta: None,
            message: format!("{request}Type `{class}` to approve it; decline to refuse it."),
            requested_schema: Self::form(class)?,
        };
        let peer = self.peer.clone();
        let cancelled = self.cancelled.clone();
        let answered = self.runtime.block_on(async move {
            tokio::select! {
                answered = peer.create_elicitation(params) => Some(answered),
                () = cancelled.cancelled() => None,
            }
        });
        let unreachable = |reason: String| ApprovalError::Unreachable { reason };
        let result = match answered {
            None => {
                return Err(unreachable(
                    "the client cancelled the call while its person was asked".to_owned(),
                ));
            }
            Some(Err(err)) => {
                return Err(unreachable(format!(
                    "the client did not answer the question: {}",
                    escape_for_display(&err.to_string())
                )));
            }
            Some(Ok(result)) => result,
        };
        match result.action {
            ElicitationAction::Accept => result
                .content
                .as_ref()
                .and_then(|content| content.get(ANSWER_FIELD))
                .and_then(|answer| answer.as_str())
                .map(str::to_owned)
                .ok_or_else(|| {
                    unreachable(format!(
                        "the client accepted without the `{ANSWER_FIELD}` field the form asks for"
                    ))
                }),
            ElicitationAction::Decline => Err(ApprovalError::Declined),
            ElicitationAction::Cancel => Err(ApprovalError::Cancelled),
            // A later kind of answer is no approval.
            _ => Err(unreachable(
                "the client answered in a way this server does not know".to_owned(),
            )),
        }
    }
}
