//! Telephony: turns SIP calls into engine requests and engine actions into
//! SIP. `Seam` is what the SIP core hands calls to (`IncomingCalls`); one
//! task (`run`) owns every call's state (`call.rs`) and carries out the
//! engine's phone actions through the core's `CallControl`: the caller's leg
//! (`inbound.rs`, announcements while waiting in `waiting.rs`, a key to be
//! called back instead in `callback_key.rs`), ringing
//! operators (`ring.rs`), bridging (`bridge.rs`), missed calls (`missed.rs`,
//! with greetings and announcements in `announce.rs`), calls out through the
//! gateway (`gateway.rs`), operators' own calls (`internal.rs`: to
//! colleagues, `outside.rs`: to customers), workday
//! codes (`workday_codes.rs`), REFER transfers (`transfer.rs`, attended ones
//! in `attended.rs`), re-INVITEs (`reoffer.rs`), call recordings
//! (`recording.rs`) and supervisors (`supervision.rs`). The API reaches it
//! through a `TelephonyHandle` (the calls now, `listing.rs`; pausing a
//! recording). It translates; the engine decides.

mod announce;
mod attended;
mod bridge;
mod call;
mod callback_key;
mod deferred;
mod gateway;
mod inbound;
mod internal;
mod listing;
mod missed;
mod outside;
mod pause_keys;
mod pickup;
pub mod recording;
mod reoffer;
mod ring;
mod supervision;
mod transfer;
mod waiting;
mod workday_codes;

use std::collections::HashSet;

use tokio::sync::mpsc;

use crate::channels::{ChannelContext, ChannelError};
use crate::engine::{Action, Channel, Note, OperatorId, RequestId};
use crate::media::MediaService;
use crate::sip::{CallCommand, CallControl, CallUpdate, CallVerdict, Caller, IncomingCall, IncomingCalls, LegEvent};

use call::Calls;
pub use listing::CallView;

/// What reaches the telephony task.
pub enum Input {
    /// A trunk's INVITE the core holds for us (`CallVerdict::Pending`).
    Incoming(IncomingCall),
    /// The caller cancelled, acknowledged or hung up.
    Update(String, CallUpdate),
    /// An operator leg answered, failed or hung up.
    Leg(String, LegEvent),
    /// The voicemail recording of this call ended (at its maximum length, or
    /// because the caller hung up).
    VoicemailDone(String),
    /// A greeting or announcement to a missed caller ended (`announce.rs`).
    Played {
        call_id: String,
        then: announce::AfterPlay,
        end: crate::media::PlayEnd,
    },
    /// An operator dialled the pickup code (`*8`: their groups; `**EXT`:
    /// the operator with that extension).
    Pickup { call: IncomingCall, operator: String },
    /// An operator dialled a workday code (`*45`, `*46`, `*47`).
    WorkdayCode { call: IncomingCall, operator: String },
    /// The confirmation tone of a workday code has sounded.
    Confirmed(String),
    /// Time for the waiting announcement of this call (`waiting.rs`).
    WaitingAnnouncement(String),
    /// The waiting caller of this call pressed a key (`callback_key.rs`).
    Key { call_id: String, key: char },
    /// The operator on leg `leg` of this recorded call pressed a key
    /// (`recording.rs`: `*1` pauses or resumes the recording).
    OperatorKey {
        call_id: String,
        leg: crate::media::LegId,
        key: char,
    },
    /// Pause or resume the recording of the call `operator` is talking in
    /// (`recording.rs`); the reply says whether there was one.
    PauseRecording {
        operator: String,
        paused: bool,
        reply: tokio::sync::oneshot::Sender<bool>,
    },
    /// Every call now (`listing.rs`).
    ListCalls {
        reply: tokio::sync::oneshot::Sender<Vec<CallView>>,
    },
    /// An operator dialled something else: a colleague's extension
    /// (`internal.rs`), or nothing acdd carries.
    OperatorCall { call: IncomingCall, operator: String },
    /// The ring timer of a call through the outbound gateway ran out.
    GatewayTimeout(String),
    /// The engine has not taken up this request's transfer in time.
    TransferUndecided(RequestId),
    /// The attended transfer of this request had time enough to hand the
    /// call over (`attended.rs`).
    HandoverOver(RequestId),
    /// The call was stored and announced (or not), with the caller's name
    /// in the CRM.
    Stored {
        call_id: String,
        result: Result<(RequestId, Option<String>), ChannelError>,
    },
}

/// The SIP core's side of the seam: takes trunk calls to routed numbers,
/// operators' pickup and workday codes and their other calls (`internal.rs`
/// decides);
/// refuses trunk calls to other numbers (404).
pub struct Seam {
    routed: HashSet<String>,
    inputs: mpsc::UnboundedSender<Input>,
}

impl IncomingCalls for Seam {
    fn offer(&mut self, call: &IncomingCall) -> CallVerdict {
        match &call.caller {
            Caller::Operator(operator) if pickup::is_pickup(&call.number) => {
                match self.inputs.send(Input::Pickup {
                    call: call.clone(),
                    operator: operator.clone(),
                }) {
                    Ok(()) => CallVerdict::Pending,
                    Err(_) => CallVerdict::Reject { status: 503 },
                }
            }
            Caller::Operator(operator) if workday_codes::workday_code(&call.number).is_some() => {
                match self.inputs.send(Input::WorkdayCode {
                    call: call.clone(),
                    operator: operator.clone(),
                }) {
                    Ok(()) => CallVerdict::Pending,
                    Err(_) => CallVerdict::Reject { status: 503 },
                }
            }
            Caller::Operator(operator) => match self.inputs.send(Input::OperatorCall {
                call: call.clone(),
                operator: operator.clone(),
            }) {
                Ok(()) => CallVerdict::Pending,
                Err(_) => CallVerdict::Reject { status: 503 },
            },
            Caller::Trunk(_) if !self.routed.contains(&call.number) => {
                tracing::info!(caller = ?call.caller, number = %call.number, status = 404, "incoming call refused: number not routed");
                CallVerdict::Reject { status: 404 }
            }
            Caller::Trunk(_) => match self.inputs.send(Input::Incoming(call.clone())) {
                Ok(()) => CallVerdict::Pending,
                Err(_) => CallVerdict::Reject { status: 503 },
            },
        }
    }

    fn update(&mut self, call_id: &str, update: CallUpdate) {
        let _ = self.inputs.send(Input::Update(call_id.to_string(), update));
    }

    fn leg(&mut self, leg: &str, event: LegEvent) {
        let _ = self.inputs.send(Input::Leg(leg.to_string(), event));
    }
}

impl Seam {
    /// Another seam into the same task, for these routed numbers (reloads).
    pub fn with_routes(&self, routed: HashSet<String>) -> Seam {
        Seam {
            routed,
            inputs: self.inputs.clone(),
        }
    }

    /// What the API uses to reach the telephony task.
    pub fn handle(&self) -> TelephonyHandle {
        TelephonyHandle {
            inputs: self.inputs.clone(),
        }
    }
}

/// Requests from outside SIP (the API) to the telephony task.
#[derive(Clone)]
pub struct TelephonyHandle {
    inputs: mpsc::UnboundedSender<Input>,
}

impl TelephonyHandle {
    /// Every call the telephony task holds now, oldest first (empty if
    /// telephony has stopped).
    pub async fn calls(&self) -> Vec<CallView> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        if self.inputs.send(Input::ListCalls { reply }).is_err() {
            return Vec::new();
        }
        answer.await.unwrap_or_default()
    }

    /// Pauses or resumes the recording of `operator`'s call; false if they
    /// are in no recorded call (or telephony has stopped).
    pub async fn pause_recording(&self, operator: &str, paused: bool) -> bool {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let input = Input::PauseRecording {
            operator: operator.to_string(),
            paused,
            reply,
        };
        self.inputs.send(input).is_ok() && answer.await.unwrap_or(false)
    }
}

/// The seam for the SIP core and the receiving end for `run`.
pub fn seam(routed: HashSet<String>) -> (Seam, mpsc::UnboundedReceiver<Input>) {
    let (inputs, receiver) = mpsc::unbounded_channel();
    (Seam { routed, inputs }, receiver)
}

/// Whether telephony carries out this engine action.
fn wanted(action: &Action) -> bool {
    matches!(
        action,
        Action::RunMissed { .. }
            | Action::Offer {
                channel: Channel::Phone,
                ..
            }
            | Action::Assign {
                channel: Channel::Phone,
                ..
            }
            | Action::Withdraw { .. }
            | Action::RefuseAccept { .. }
            | Action::Note(Note::PickupRefused { .. } | Note::Transferred { .. })
    )
}

/// Everything the telephony task works with.
pub(crate) struct Telephony {
    pub ctx: ChannelContext,
    pub control: CallControl,
    pub media: MediaService,
    pub calls: Calls,
    pub pickups: pickup::Pickups,
    pub loopback: mpsc::UnboundedSender<Input>,
    /// Actions for requests whose calls are still being stored (`deferred.rs`).
    pub deferred: Vec<Action>,
    pub transfers: transfer::Transfers,
    pub handovers: attended::Handovers,
    pub supervisions: supervision::Supervisions,
    /// Names the legs through the outbound gateway.
    pub gateway_serial: u64,
}

/// Starts the telephony task: calls from `inputs`, actions from the engine.
pub fn spawn(ctx: ChannelContext, control: CallControl, media: MediaService, inputs: mpsc::UnboundedReceiver<Input>) {
    let actions = ctx.engine.subscribe(wanted);
    tokio::spawn(run(ctx, control, media, inputs, actions));
}

async fn run(
    ctx: ChannelContext,
    control: CallControl,
    media: MediaService,
    mut inputs: mpsc::UnboundedReceiver<Input>,
    mut actions: mpsc::UnboundedReceiver<Action>,
) {
    let (loopback, mut stored) = mpsc::unbounded_channel();
    let mut telephony = Telephony {
        ctx,
        control,
        media,
        calls: Calls::default(),
        pickups: pickup::Pickups::default(),
        loopback,
        deferred: Vec::new(),
        transfers: transfer::Transfers::default(),
        handovers: attended::Handovers::default(),
        supervisions: supervision::Supervisions::default(),
        gateway_serial: 0,
    };
    loop {
        tokio::select! {
            Some(input) = inputs.recv() => telephony.input(input).await,
            Some(input) = stored.recv() => telephony.input(input).await,
            Some(action) = actions.recv() => telephony.action(action),
            else => return,
        }
    }
}

impl Telephony {
    /// Removes a call (`Calls::remove`): its operator legs are dropped, and
    /// operators whose phone it kept busy are free again for the engine.
    fn remove_call(&mut self, call_id: &str) -> Option<Option<RequestId>> {
        self.end_supervision_of(call_id);
        let (freed, legs) = self
            .calls
            .get_mut(call_id)
            .map(|call| {
                let legs: Vec<_> = call.legs.keys().map(|offer| call::leg_name(*offer)).collect();
                (std::mem::take(&mut call.phones_in_use), legs)
            })
            .unwrap_or_default();
        // An operator leg still there (one that answered while the caller
        // left) ends with the call; the core ignores legs already over.
        for leg in legs {
            let _ = self.control.send(CallCommand::DropLeg { leg });
        }
        for operator in freed {
            self.ctx.engine.send(crate::engine::Event::PhoneInUse {
                operator,
                in_use: false,
            });
        }
        self.calls.remove(call_id)
    }

    async fn input(&mut self, input: Input) {
        match input {
            Input::Pickup { call, operator } => self.pickup(call, operator).await,
            Input::OperatorCall { call, operator } => self.operator_call(call, &operator).await,
            Input::WorkdayCode { call, operator } => self.workday_code(call, operator).await,
            Input::Confirmed(call_id) => self.confirmed(&call_id),
            Input::WaitingAnnouncement(call_id) => self.waiting_announcement_due(&call_id),
            Input::Key { call_id, key } => self.key_pressed(&call_id, key),
            Input::OperatorKey { call_id, leg, key } => self.operator_key_pressed(&call_id, leg, key),
            Input::PauseRecording {
                operator,
                paused,
                reply,
            } => {
                let done = self.pause_recording(operator, paused).await;
                let _ = reply.send(done);
            }
            Input::ListCalls { reply } => {
                let _ = reply.send(self.list_calls());
            }
            Input::Leg(leg, event) => self.leg_event(&leg, event).await,
            Input::Update(call_id, CallUpdate::Reoffered { sdp }) => self.caller_reoffered(&call_id, &sdp),
            Input::Update(call_id, CallUpdate::Referred { refer_to, referred_by }) => {
                self.caller_referred(&call_id, &refer_to, referred_by).await
            }
            Input::GatewayTimeout(leg) => self.gateway_timeout(&leg),
            Input::TransferUndecided(request) => self.transfer_undecided(request),
            Input::HandoverOver(request) => self.handover_over(request),
            Input::VoicemailDone(call_id) => self.voicemail_done(&call_id),
            Input::Played { call_id, then, end } => self.played(&call_id, then, end),
            stored @ Input::Stored { .. } => {
                self.caller_input(stored);
                self.run_deferred();
            }
            other => self.caller_input(other),
        }
    }

    /// The operator (by id) whose extension is `extension`.
    fn operator_with_extension(&self, extension: &str) -> Option<String> {
        let config = self.ctx.config.load();
        config
            .operators
            .iter()
            .find(|o| o.extension.as_ref().is_some_and(|e| e.get_ref() == extension))
            .map(|o| o.id.get_ref().clone())
    }

    /// The engine's ids of an operator and maybe another (unknown: `None`).
    async fn operator_ids(&self, first: String, second: Option<String>) -> (Option<OperatorId>, Option<OperatorId>) {
        self.ctx
            .engine
            .query(move |e| (e.operator_id(&first), second.and_then(|n| e.operator_id(&n))))
            .await
            .unwrap_or_default()
    }

    /// The call `operator` is talking in (answered when acdd rang them, or
    /// picked up) and their media leg in it.
    fn call_of_operator(&self, operator: OperatorId) -> Option<(String, crate::media::LegId)> {
        self.calls
            .iter()
            .find_map(|(call_id, c)| match c.phase {
                call::Phase::Bridged(offer) => c
                    .legs
                    .get(&offer)
                    .filter(|leg| leg.operator == operator)
                    .map(|leg| (call_id.to_string(), leg.media)),
                _ => None,
            })
            .or_else(|| self.pickups.picked_by_operator(operator))
    }

    /// The media leg of whoever talks with the caller of `call_id` now: the
    /// operator acdd rang who answered, or the one who picked it up.
    fn talking_leg(&self, call_id: &str) -> Option<crate::media::LegId> {
        let call = self.calls.get(call_id)?;
        match call.phase {
            call::Phase::Bridged(offer) => call.legs.get(&offer).map(|leg| leg.media),
            call::Phase::PickedUp => self
                .pickups
                .picker_of(call_id)
                .and_then(|picker| self.pickups.picker_leg(&picker)),
            _ => None,
        }
    }

    /// The request's call is assigned in `queue` now; a supervisor of its
    /// previous operator leaves it (`supervision.rs`).
    fn assigned_in(&mut self, request: RequestId, queue: crate::engine::QueueId) {
        let Some(call_id) = self.calls.call_id_of(request).map(str::to_string) else {
            return;
        };
        self.end_supervision_of(&call_id);
        let name = self.ctx.engine.queue_name(queue);
        if let Some(call) = self.calls.get_mut(&call_id) {
            call.queue = name;
        }
    }

    fn action(&mut self, action: Action) {
        if self.defer(&action) {
            return;
        }
        match action {
            Action::Offer {
                offer,
                request,
                operator,
                ..
            } => self.ring(offer, request, operator),
            Action::Withdraw { offer, .. } => self.withdraw(offer),
            Action::RefuseAccept { offer, .. } => self.withdraw(offer),
            Action::Assign {
                request,
                operator,
                queue,
                ..
            } => {
                self.assigned_in(request, queue);
                self.assign(request, operator);
                self.record_if_wanted(request, queue);
                self.watch_pause_keys(request, operator);
            }
            Action::RunMissed { .. } => self.missed(action),
            Action::Note(Note::PickupRefused { operator }) => self.pickup_refused(operator),
            Action::Note(Note::Transferred { request, .. }) => self.transferred(request),
            _ => {}
        }
    }
}
