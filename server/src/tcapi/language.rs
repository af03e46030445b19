//! `X-TC-Language`, as Tencent Cloud API 3.0 reads it: errors are answered in English (`en-US`,
//! the default) or in Simplified Chinese (`zh-CN`). The code never changes, only the message;
//! the words are those of Tencent Cloud's own Chinese documentation (see `docs/glossary.md`).

/// The language of an answer's error message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    English,
    Chinese,
}

impl Language {
    /// From the request's `X-TC-Language` header (`zh-CN` is Chinese, anything else English).
    pub fn of(header: &str) -> Language {
        if header.trim().eq_ignore_ascii_case("zh-CN") {
            Language::Chinese
        } else {
            Language::English
        }
    }
}

/// The Chinese message of error `code`: what the code means, in the words of Tencent Cloud's
/// Chinese console (the English message adds the particulars: which address, which subnet).
pub fn chinese(code: &str) -> &'static str {
    match code {
        "AuthFailure.SecretIdNotFound" => "鉴权失败：密钥不存在或已被禁用，请检查 SecretId。",
        "AuthFailure.SignatureExpire" => {
            "鉴权失败：签名已过期，请检查本机时间与服务器时间是否一致。"
        }
        "AuthFailure.SignatureFailure" => "鉴权失败：签名错误，或该请求已被使用过。",
        "InvalidParameterValue.Reserved" => {
            "参数取值错误：该 IP 地址是子网的系统保留地址（网络地址、网关或广播地址）。"
        }
        "InvalidParameterValue.Range" => "参数取值错误：IP 地址不在所属子网的网段范围内。",
        "InvalidParameterValue.Malformed" => "参数取值错误：格式不正确。",
        "InvalidParameterValue.TooLong" => "参数取值错误：长度超过限制。",
        "InvalidParameterValue.LimitExceeded" => "参数取值错误：数量超过限制。",
        "InvalidParameter.Coexist" => "参数错误：这些参数不能同时指定。",
        "InvalidParameter.FilterInvalidKey" => "参数错误：过滤条件的名称不支持。",
        "MissingParameter" => "缺少必填参数。",
        "ResourceInUse" => "资源被占用：该 IP 地址已被其他高可用虚拟 IP 或实例使用。",
        "ResourceInsufficient" => "资源不足：子网或地址池中没有可用的 IP 地址，或存储空间不足。",
        "ResourceNotFound" => "资源不存在。",
        "LimitExceeded" => "超过配额限制：该私有网络的高可用虚拟 IP 数量已达上限。",
        "UnsupportedOperation.BindEIP" => "操作不支持：该弹性公网 IP 或高可用虚拟 IP 已绑定。",
        "UnsupportedOperation.UnbindEIP" => "操作不支持：该高可用虚拟 IP 未绑定弹性公网 IP。",
        "UnsupportedOperation.IdempotentParameterMismatch" => {
            "操作不支持：相同的 ClientToken 已用于参数不同的请求。"
        }
        "UnauthorizedOperation" => "未授权操作：密钥所属用户的角色不能执行此操作。",
        "RequestLimitExceeded" => "请求的次数超过了频率限制，请稍后重试。",
        "InvalidAction" => "接口不存在。",
        "UnsupportedRegion" => "接口不支持所传地域。",
        "UnsupportedProtocol" => "不支持的请求方式。",
        "InternalError" => "内部错误。",
        code if code.starts_with("AuthFailure") => "鉴权失败。",
        code if code.starts_with("InvalidParameterValue") => "参数取值错误。",
        code if code.starts_with("InvalidParameter") => "参数错误。",
        code if code.starts_with("UnsupportedOperation") => "操作不支持。",
        _ => "请求失败。",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_for_every_code_the_api_answers() {
        assert_eq!(Language::of("zh-CN"), Language::Chinese);
        assert_eq!(Language::of("zh-cn"), Language::Chinese);
        assert_eq!(Language::of("en-US"), Language::English);
        assert_eq!(Language::of(""), Language::English);
        // every code the API's sources answer has a message of its own, in Chinese
        let sources = [
            include_str!("mod.rs"),
            include_str!("errors.rs"),
            include_str!("params.rs"),
            include_str!("actions/mod.rs"),
            include_str!("actions/common.rs"),
            include_str!("actions/havips.rs"),
            include_str!("actions/addresses.rs"),
            include_str!("actions/network.rs"),
        ];
        let mut checked = 0;
        for source in sources {
            for (i, _) in source.match_indices('"') {
                let code: String = source[i + 1..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
                    .collect();
                let is_code = code.len() > 6
                    && source[i + 1 + code.len()..].starts_with('"')
                    && code.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                    && CODE_FAMILIES.iter().any(|f| code.starts_with(f));
                if is_code {
                    let message = chinese(&code);
                    assert!(
                        message != "请求失败。" && message.chars().any(|c| c > '\u{2e80}'),
                        "{code}: {message}"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 30, "{checked}");
    }

    const CODE_FAMILIES: &[&str] = &[
        "AuthFailure",
        "InvalidParameter",
        "MissingParameter",
        "Resource",
        "LimitExceeded",
        "Unsupported",
        "UnauthorizedOperation",
        "RequestLimitExceeded",
        "InternalError",
        "InvalidAction",
    ];
}
