//! A dialog's route set (RFC 3261 §12.1): the Record-Route elements a proxy
//! put in the dialog-creating request or response become the Route header
//! lines of every request acdd sends in that dialog, so the proxies that
//! asked to stay on the path see the ACK, BYE and NOTIFY. Loose routing
//! (`;lr`, RFC 3261) is assumed: the Request-URI stays the peer's Contact.

/// `Route: element` lines, one per element, in the given order.
pub fn route_lines<'a>(routes: impl IntoIterator<Item = &'a str>) -> String {
    let mut lines = String::new();
    for route in routes {
        lines.push_str("Route: ");
        lines.push_str(route);
        lines.push_str("\r\n");
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::route_lines;

    #[test]
    fn one_line_per_element_in_order() {
        assert_eq!(route_lines([]), "");
        assert_eq!(
            route_lines(["<sip:p1.example;lr>", "<sip:p2.example;lr>"]),
            "Route: <sip:p1.example;lr>\r\nRoute: <sip:p2.example;lr>\r\n"
        );
    }
}
