//! Forms over real HTTP: URL-encoded and JSON bodies, field mapping, leads
//! and deals, rotation skipping operators whose workday has not started or is
//! paused, the all-unavailable fallback, and refusals that store nothing
//! (422 naming the fields, 413, 415).

use std::time::Duration;

use serde_json::json;

use crate::harness::{Backend, Daemon, eventually, operator};

const WAIT: Duration = Duration::from_secs(5);

crate::on_both_backends! {
    form_rotation_and_refusals => form_rotation_and_refusals;
}

async fn form_rotation_and_refusals(backend: Backend) {
    let config = format!(
        "{}{}{}[[queues]]\nname = \"sales\"\nchannels = [\"form\"]\noperators = [\"alice\", \"bob\", \"carol\"]\n\
         mode = \"evenly\"\n\
         [[routes.form]]\nform = \"contact\"\nqueue = \"sales\"\n\
         fields = {{ name = \"your-name\", phone = \"tel\", email = \"email\", comment = \"message\" }}\n\
         required = [\"name\"]\n\
         [[routes.form]]\nform = \"quote\"\nqueue = \"sales\"\ncreates = \"deal\"\n\
         fields = {{ name = \"name\", email = \"email\", budget = \"budget\" }}\nrequired = [\"name\", \"email\"]\n",
        operator("alice"),
        operator("bob"),
        operator("carol")
    );
    let d = Daemon::start(backend, &config).await;
    // bob never starts his day; alice and carol do.
    let (alice, carol) = (d.operator("alice"), d.operator("carol"));
    assert_eq!(alice.status(json!({ "workday": "start" })).await.0, 200);
    assert_eq!(carol.status(json!({ "workday": "start" })).await.0, 200);

    let urlencoded = "application/x-www-form-urlencoded";
    let (status, first) = d
        .form(
            "contact",
            urlencoded,
            "your-name=Ann&email=ann%40example.org&message=Call+me&utm=ads",
        )
        .await;
    assert_eq!(status, 201, "{first}");
    let (status, second) = d
        .form(
            "contact",
            "application/json",
            json!({ "your-name": "Ben", "tel": "+49 40 12345678" }).to_string(),
        )
        .await;
    assert_eq!(status, 201, "{second}");
    let (_, third) = d.form("contact", urlencoded, "your-name=Cid").await;
    let holders = [
        d.holder_of(&first["request"]).await,
        d.holder_of(&second["request"]).await,
        d.holder_of(&third["request"]).await,
    ];
    assert_eq!(
        holders,
        ["alice", "carol", "alice"],
        "rotation skips bob, whose day has not started"
    );

    // The lead keeps every field, mapped ones under our names; the responsible is the rotation's choice.
    let ann = eventually(WAIT, || async {
        let card = d.customer("email", "ann@example.org").await;
        (card["responsible"] == "alice").then_some(card)
    })
    .await;
    assert_eq!(ann["name"], "Ann");
    let lead = &ann["leads"][0];
    assert_eq!(lead["kind"], "lead");
    assert_eq!(
        lead["fields"],
        json!({ "name": "Ann", "email": "ann@example.org", "comment": "Call me", "utm": "ads" })
    );
    assert_eq!(d.customer("phone", "+494012345678").await["name"], "Ben");

    // Carol pauses: alice only.
    assert_eq!(carol.status(json!({ "workday": "pause" })).await.0, 200);
    let (_, fourth) = d.form("contact", urlencoded, "your-name=Dan").await;
    assert_eq!(d.holder_of(&fourth["request"]).await, "alice");

    // Refusals store nothing.
    let before = d.open_requests().await.len();
    let (status, body) = d.form("contact", urlencoded, "tel=12&email=not-an-address").await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "tel", "your-name"]);
    let (status, body) = d
        .form("quote", "application/json", json!({ "name": "Eve" }).to_string())
        .await;
    assert_eq!((status, body["fields"][0]["field"].clone()), (422, json!("email")));
    let (status, _) = d
        .form("contact", urlencoded, format!("your-name={}", "x".repeat(20_000)))
        .await;
    assert_eq!(status, 413);
    let (status, _) = d.form("contact", "text/plain", "your-name=Zed").await;
    assert_eq!(status, 415);
    let (status, _) = d.form("contact", "application/json", "{not json").await;
    assert_eq!(status, 400);
    assert_eq!(d.form("nosuchform", urlencoded, "a=b").await.0, 404);
    assert_eq!(d.open_requests().await.len(), before);

    // A deal, where the route says so.
    let (status, deal) = d
        .form(
            "quote",
            "application/json",
            json!({ "name": "Fay", "email": "fay@example.org", "budget": 5000 }).to_string(),
        )
        .await;
    assert_eq!(status, 201, "{deal}");
    let fay = d.customer("email", "fay@example.org").await;
    assert_eq!(fay["leads"][0]["kind"], "deal");
    assert_eq!(fay["leads"][0]["fields"]["budget"], "5000");
    let lead_id = fay["leads"][0]["id"].as_i64().unwrap();
    assert_eq!(d.admin_get(&format!("/api/v1/leads/{lead_id}")).await["kind"], "deal");

    // Nobody working: in order anyway, after the last one chosen.
    for who in [&alice, &carol] {
        assert_eq!(who.status(json!({ "workday": "end" })).await.0, 200);
    }
    let (_, last) = d.form("contact", urlencoded, "your-name=Gus").await;
    let previous = d.holder_of(&deal["request"]).await;
    let expected = match previous.as_str() {
        "alice" => "bob",
        "bob" => "carol",
        _ => "alice",
    };
    assert_eq!(d.holder_of(&last["request"]).await, expected);
}
