//! Errors in Tencent Cloud's shape: one table from the console's refusals to the codes the
//! official clients know.

use app::domain::error::{ApiError, ErrorKind, Reason};

/// An error answer: `{"Response": {"Error": {"Code", "Message"}, "RequestId"}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcError {
    pub code: &'static str,
    pub message: String,
}

impl TcError {
    pub fn new(code: &'static str, message: impl Into<String>) -> TcError {
        TcError {
            code,
            message: message.into(),
        }
    }
}

/// The code of a console refusal: by the rule it names, else by its kind.
pub fn code_of(e: &ApiError) -> &'static str {
    match (e.reason, e.kind) {
        (Some(Reason::MalformedIp), _) => "InvalidParameterValue.Malformed",
        (Some(Reason::OutOfRange), _) => "InvalidParameterValue.Range",
        (Some(Reason::Reserved), _) => "InvalidParameterValue.Reserved",
        (Some(Reason::InUse), _) => "ResourceInUse",
        (Some(Reason::Full), _) => "ResourceInsufficient",
        (Some(Reason::TooLong), _) => "InvalidParameterValue.TooLong",
        (Some(Reason::Quota), _) => "LimitExceeded",
        (Some(Reason::EipBound), _) => "UnsupportedOperation",
        (Some(Reason::EipAlreadyBound), _) => "UnsupportedOperation.BindEIP",
        (Some(Reason::EipNotBound), _) => "UnsupportedOperation.UnbindEIP",
        (Some(Reason::UnknownId), _) | (None, ErrorKind::NotFound) => "ResourceNotFound",
        (None, ErrorKind::Malformed) => "InvalidParameterValue.Malformed",
        (None, ErrorKind::Invalid) => "InvalidParameterValue",
        (None, ErrorKind::Conflict) => "UnsupportedOperation",
        (None, ErrorKind::Unauthorized) => "AuthFailure",
        (None, ErrorKind::Forbidden) => "UnauthorizedOperation",
        (None, ErrorKind::TooManyRequests) => "RequestLimitExceeded",
        (None, ErrorKind::Internal | ErrorKind::Unavailable) => "InternalError",
        (None, ErrorKind::StorageFull) => "ResourceInsufficient",
        (None, ErrorKind::TooLarge | ErrorKind::UnsupportedType | ErrorKind::Misdirected) => {
            "InvalidParameter"
        }
    }
}

impl From<ApiError> for TcError {
    fn from(e: ApiError) -> TcError {
        let shown = app::api::outgoing(&e);
        TcError::new(code_of(&e), shown.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::ip::IpError;

    #[test]
    fn refusals_map_to_the_codes_of_the_reference() {
        let subnet: ipnet::Ipv4Net = "172.16.16.0/24".parse().unwrap();
        let ip = "172.16.16.1".parse().unwrap();
        let cases = [
            (
                IpError::Malformed("x".into()).refusal("ip"),
                "InvalidParameterValue.Malformed",
            ),
            (
                IpError::OutsideSubnet {
                    ip: "10.0.0.1".parse().unwrap(),
                    subnet,
                }
                .refusal("ip"),
                "InvalidParameterValue.Range",
            ),
            (
                IpError::Reserved {
                    ip,
                    kind: app::domain::ip::Reserved::Gateway,
                }
                .refusal("ip"),
                "InvalidParameterValue.Reserved",
            ),
            (IpError::InUse(ip).refusal("ip"), "ResourceInUse"),
            (
                ApiError::not_found("HAVIP", "havip-00000000"),
                "ResourceNotFound",
            ),
            (
                ApiError::not_found("VPC", "vpc-00000000").on_field("vpc"),
                "ResourceNotFound",
            ),
            (
                ApiError::invalid("x", "y").because(Reason::Quota),
                "LimitExceeded",
            ),
            (
                ApiError::conflict("x").because(Reason::EipNotBound),
                "UnsupportedOperation.UnbindEIP",
            ),
            (ApiError::forbidden("x"), "UnauthorizedOperation"),
            (ApiError::internal("x"), "InternalError"),
        ];
        for (e, code) in cases {
            assert_eq!(code_of(&e), code, "{e:?}");
        }
    }
}
