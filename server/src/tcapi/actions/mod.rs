//! The actions: each decodes its parameters, calls the store functions the console's server
//! functions call, and shapes the answer. `Action` is the one table of what this console
//! answers and the least role each action needs; its `run` gives every action its handler (a
//! missing one does not compile). The handlers live by resource.

mod addresses;
mod common;
mod havips;
mod network;

use super::errors::TcError;
use app::domain::auth::Role;
use app::domain::model::Region;
use app::store::Store;
use serde_json::{Map, Value};

pub use common::region;

pub struct Ctx {
    /// acting for the key's user (the audit log names the key)
    pub store: Store,
    pub region: Region,
    pub key_id: String,
    pub request_id: String,
}

/// Declares `Action` from its table: each line a role, then the actions that need it.
macro_rules! actions {
    ($($role:ident: $($action:ident)+;)*) => {
        /// A Tencent Cloud API 3.0 action this console answers (its `X-TC-Action`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Action {
            $($($action,)+)*
        }

        impl Action {
            pub const ALL: &'static [Action] = &[$($(Action::$action,)+)*];

            /// The action's name, as `X-TC-Action` gives it.
            pub fn name(self) -> &'static str {
                match self {
                    $($(Action::$action => stringify!($action),)+)*
                }
            }

            /// The least role the action needs.
            pub fn role(self) -> Role {
                match self {
                    $($(Action::$action => Role::$role,)+)*
                }
            }
        }
    };
}

actions! {
    Viewer: DescribeHaVips DescribeVpcs DescribeSubnets DescribeAddresses DescribeVpcLimits
        DescribeVpcTaskResult;
    Operator: CreateHaVip ModifyHaVipAttribute DeleteHaVip HaVipAssociateAddressIp
        HaVipDisassociateAddressIp AssociateHaVipInstance DisassociateHaVipInstance
        AllocateAddresses ReleaseAddresses;
    Admin: CreateVpc CreateSubnet DeleteSubnet DeleteVpc;
}

impl Action {
    /// The action called `name` (case as Tencent spells it); `None` for any other.
    pub fn named(name: &str) -> Option<Action> {
        Action::ALL.iter().copied().find(|a| a.name() == name)
    }

    pub async fn run(self, ctx: &Ctx, params: Value) -> Result<Map<String, Value>, TcError> {
        match self {
            Action::CreateHaVip => havips::create(ctx, params).await,
            Action::DescribeHaVips => havips::describe(ctx, params),
            Action::ModifyHaVipAttribute => havips::rename(ctx, params).await,
            Action::DeleteHaVip => havips::delete(ctx, params).await,
            Action::HaVipAssociateAddressIp => havips::associate_address(ctx, params).await,
            Action::HaVipDisassociateAddressIp => havips::disassociate_address(ctx, params).await,
            Action::AssociateHaVipInstance => havips::associate(ctx, params, true).await,
            Action::DisassociateHaVipInstance => havips::associate(ctx, params, false).await,
            Action::DescribeVpcs => network::describe_vpcs(ctx, params),
            Action::DescribeSubnets => network::describe_subnets(ctx, params),
            Action::CreateVpc => network::create_vpc(ctx, params).await,
            Action::CreateSubnet => network::create_subnet(ctx, params).await,
            Action::DeleteSubnet => network::delete_subnet(ctx, params).await,
            Action::DeleteVpc => network::delete_vpc(ctx, params).await,
            Action::DescribeVpcLimits => network::limits(ctx, params),
            Action::AllocateAddresses => addresses::allocate(ctx, params).await,
            Action::DescribeAddresses => addresses::describe(ctx, params),
            Action::ReleaseAddresses => addresses::release(ctx, params).await,
            Action::DescribeVpcTaskResult => common::task_result(ctx, params),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Action;

    #[test]
    fn every_action_is_found_by_its_name_only() {
        for action in Action::ALL {
            assert_eq!(Action::named(action.name()), Some(*action));
        }
        assert_eq!(Action::ALL.len(), 19);
        assert_eq!(Action::named("describehavips"), None);
        assert_eq!(Action::named("RunInstances"), None);
    }
}
