# Rendered from types/_requests.py by tests/sync/test_sync_request_types.py; do not edit:
# run `uv run python tests/sync/test_sync_request_types.py --write` after regenerating types.

"""Typed blocking ``request``: the overloads of ``types/_requests.py`` without ``async``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, overload

if TYPE_CHECKING:  # annotations only: importing this module does not load _generated
    from typing_extensions import deprecated

    from .types._generated import (
        AppsInstalledParams,
        AppsInstalledResponse,
        AppsListParams,
        AppsListResponse,
        AppsReadParams,
        AppsReadResponse,
        CancelLoginAccountParams,
        CancelLoginAccountResponse,
        CommandExecParams,
        CommandExecResizeParams,
        CommandExecResizeResponse,
        CommandExecResponse,
        CommandExecTerminateParams,
        CommandExecTerminateResponse,
        CommandExecWriteParams,
        CommandExecWriteResponse,
        ConfigBatchWriteParams,
        ConfigReadParams,
        ConfigReadResponse,
        ConfigRequirementsReadResponse,
        ConfigValueWriteParams,
        ConfigWriteResponse,
        ConsumeAccountRateLimitResetCreditParams,
        ConsumeAccountRateLimitResetCreditResponse,
        ExperimentalFeatureEnablementSetParams,
        ExperimentalFeatureEnablementSetResponse,
        ExperimentalFeatureListParams,
        ExperimentalFeatureListResponse,
        ExternalAgentConfigDetectParams,
        ExternalAgentConfigDetectResponse,
        ExternalAgentConfigImportHistoriesReadResponse,
        ExternalAgentConfigImportHistoryRecordParams,
        ExternalAgentConfigImportHistoryRecordResponse,
        ExternalAgentConfigImportParams,
        ExternalAgentConfigImportResponse,
        FeedbackUploadParams,
        FeedbackUploadResponse,
        FsCopyParams,
        FsCopyResponse,
        FsCreateDirectoryParams,
        FsCreateDirectoryResponse,
        FsGetMetadataParams,
        FsGetMetadataResponse,
        FsReadDirectoryParams,
        FsReadDirectoryResponse,
        FsReadFileParams,
        FsReadFileResponse,
        FsRemoveParams,
        FsRemoveResponse,
        FsUnwatchParams,
        FsUnwatchResponse,
        FsWatchParams,
        FsWatchResponse,
        FsWriteFileParams,
        FsWriteFileResponse,
        FuzzyFileSearchParams,
        FuzzyFileSearchResponse,
        GatewayOAuthCancelResponse,
        GatewayOAuthLoginResponse,
        GatewayOAuthReadResponse,
        GetAccountParams,
        GetAccountRateLimitsResponse,
        GetAccountResponse,
        GetAccountTokenUsageResponse,
        GetWorkspaceMessagesResponse,
        HooksListParams,
        HooksListResponse,
        InitializeParams,
        InitializeResponse,
        ListMcpServerStatusParams,
        ListMcpServerStatusResponse,
        LoginAccountParams,
        LoginAccountResponse,
        LogoutAccountResponse,
        MarketplaceAddParams,
        MarketplaceAddResponse,
        MarketplaceRemoveParams,
        MarketplaceRemoveResponse,
        MarketplaceUpgradeParams,
        MarketplaceUpgradeResponse,
        McpResourceReadParams,
        McpResourceReadResponse,
        McpServerOauthLoginParams,
        McpServerOauthLoginResponse,
        McpServerRefreshResponse,
        McpServerToolCallParams,
        McpServerToolCallResponse,
        ModelListParams,
        ModelListResponse,
        ModelProviderCapabilitiesReadParams,
        ModelProviderCapabilitiesReadResponse,
        PermissionProfileListParams,
        PermissionProfileListResponse,
        PluginInstalledParams,
        PluginInstalledResponse,
        PluginInstallParams,
        PluginInstallResponse,
        PluginListParams,
        PluginListResponse,
        PluginReadParams,
        PluginReadResponse,
        PluginReconcileParams,
        PluginReconcileResponse,
        PluginShareCheckoutParams,
        PluginShareCheckoutResponse,
        PluginShareDeleteParams,
        PluginShareDeleteResponse,
        PluginShareListParams,
        PluginShareListResponse,
        PluginShareSaveParams,
        PluginShareSaveResponse,
        PluginShareUpdateTargetsParams,
        PluginShareUpdateTargetsResponse,
        PluginSkillReadParams,
        PluginSkillReadResponse,
        PluginUninstallParams,
        PluginUninstallResponse,
        ReviewStartParams,
        ReviewStartResponse,
        SendAddCreditsNudgeEmailParams,
        SendAddCreditsNudgeEmailResponse,
        SkillsConfigWriteParams,
        SkillsConfigWriteResponse,
        SkillsExtraRootsSetParams,
        SkillsExtraRootsSetResponse,
        SkillsListParams,
        SkillsListResponse,
        ThreadApproveGuardianDeniedActionParams,
        ThreadApproveGuardianDeniedActionResponse,
        ThreadArchiveParams,
        ThreadArchiveResponse,
        ThreadAttachmentAddParams,
        ThreadAttachmentAddResponse,
        ThreadAttachmentListParams,
        ThreadAttachmentListResponse,
        ThreadAttachmentOwnerListParams,
        ThreadAttachmentOwnerListResponse,
        ThreadAttachmentRemoveParams,
        ThreadAttachmentRemoveResponse,
        ThreadCompactStartParams,
        ThreadCompactStartResponse,
        ThreadDeleteParams,
        ThreadDeleteResponse,
        ThreadForkParams,
        ThreadForkResponse,
        ThreadGoalClearParams,
        ThreadGoalClearResponse,
        ThreadGoalGetParams,
        ThreadGoalGetResponse,
        ThreadGoalSetParams,
        ThreadGoalSetResponse,
        ThreadInjectItemsParams,
        ThreadInjectItemsResponse,
        ThreadItemsListParams,
        ThreadItemsListResponse,
        ThreadListParams,
        ThreadListResponse,
        ThreadLoadedListParams,
        ThreadLoadedListResponse,
        ThreadMetadataUpdateParams,
        ThreadMetadataUpdateResponse,
        ThreadReadParams,
        ThreadReadResponse,
        ThreadResumeParams,
        ThreadResumeResponse,
        ThreadRevertParams,
        ThreadRevertResponse,
        ThreadSectionCreateParams,
        ThreadSectionCreateResponse,
        ThreadSectionDeleteParams,
        ThreadSectionDeleteResponse,
        ThreadSectionListParams,
        ThreadSectionListResponse,
        ThreadSectionMoveParams,
        ThreadSectionMoveResponse,
        ThreadSectionUpdateParams,
        ThreadSectionUpdateResponse,
        ThreadSetNameParams,
        ThreadSetNameResponse,
        ThreadShellCommandParams,
        ThreadShellCommandResponse,
        ThreadStartParams,
        ThreadStartResponse,
        ThreadTurnsListParams,
        ThreadTurnsListResponse,
        ThreadUnarchiveParams,
        ThreadUnarchiveResponse,
        ThreadUnsubscribeParams,
        ThreadUnsubscribeResponse,
        TurnInterruptParams,
        TurnInterruptResponse,
        TurnStartParams,
        TurnStartResponse,
        TurnSteerParams,
        TurnSteerResponse,
        WindowsSandboxReadinessResponse,
        WindowsSandboxSetupStartParams,
        WindowsSandboxSetupStartResponse,
    )
    from .types._requests import ClientMethod

__all__ = ["SyncTypedRequests"]


class SyncTypedRequests:
    """Mixin: blocking ``request`` typed per method. The host provides ``_request``.

    A known method with params of the wrong shape matches the ``deprecated`` overload, so a
    type checker reports it (pyright: ``reportDeprecated``, an error in strict mode); an
    unknown method falls through to the untyped overload.
    """

    __slots__ = ()

    def _request(
        self, method: str, params: Mapping[str, Any] | None, *, timeout: float | None
    ) -> Any:
        raise NotImplementedError

    if TYPE_CHECKING:
        # The overloads exist for type checkers only: executing ~200 decorated defs at
        # import time would cost milliseconds for no run-time benefit.
        @overload
        def request(
            self,
            method: Literal["initialize"],
            params: InitializeParams,
            *,
            timeout: float | None = None,
        ) -> InitializeResponse: ...
        @overload
        def request(
            self,
            method: Literal["thread/start"],
            params: ThreadStartParams | None = None,
            *,
            timeout: float | None = None,
        ) -> ThreadStartResponse: ...
        @overload
        def request(
            self,
            method: Literal["thread/resume"],
            params: ThreadResumeParams,
            *,
            timeout: float | None = None,
        ) -> ThreadResumeResponse: ...
        @overload
        def request(
            self,
            method: Literal["thread/fork"],
            params: ThreadForkParams,
            *,
            timeout: float | None = None,
        ) -> ThreadForkResponse: ...
        @overload
        def request(
            self,
            method: Literal["thread/archive"],
            params: ThreadArchiveParams,
            *,
            timeout: float | None = None,
        ) -> ThreadArchiveResponse: ...
        @overload
        def request(
            self,
            method: Literal["thread/delete"],
            params: ThreadDeleteParams,
            *,
            timeout: float | None = None,
        ) -> ThreadDeleteResponse: ...
        @overload
        def request(
            self,
            method: Literal["thread/unsubscribe"],
            params: ThreadUnsubscribeParams,
            *,
            timeout: float | None = None,
        ) -> ThreadUnsubscribeResponse: ...
        @overload
        def request(
            self,
            method: Literal["thread/name/set"],
            params: ThreadSetNameParams,
            *,
            timeout: float | None = None,
        ) -> ThreadSetNameResponse: ...
        @overload
        def request(
            self,
            method: Literal["thread/goal/set"],
            params: ThreadGoalSetParams,
            *,
            timeout: float | None = None,
        ) -> ThreadGoalSetResponse: ...
        @overload
        def request(
            self,
            method: Literal["thread/goal/get"],
            params: ThreadGoalGetParams,
            *,
            timeout: float | None = None,
        ) -> ThreadGoalGetResponse: ...
        @overload
        def request(
            self,
            method: Literal["thread/goal/clear"],
            params: ThreadGoalClearParams,
            *,
            timeout: float | None = None,
        ) -> ThreadGoalClearResponse: ...
        @overload
        def request(
            self,
            method: Literal["thread/metadata/update"],
            params: ThreadMetadataUpdateParams,
            *,
            timeout: float | None = None,
        ) -> ThreadMetadataUpdateResponse: ...
        @overload
        def request(
            self,
            method: Literal["thread/attachment/add"],
            params: ThreadAttachmentAddParams,
            *,
            timeout: float | None = None,
        ) -> ThreadAttachmentAddResponse: ...
        @overload
        def request(
            self,
            method: Literal["thread/attachment/list"],
            params: ThreadAttachmentListParams,
            *,
            timeout: float | None = None,
        ) -> ThreadAttachmentListResponse: ...
        @overload
        def request(
            self,
            method: Literal["thread/attachmentOwner/list"],
            params: ThreadAttachmentOwnerListParams,
            *,
            timeout: float | None = None,
        ) -> ThreadAttachmentOwnerListResponse: ...
        @overload
        def request(
            self,
            method: Literal["thread/attachment/remove"],
            params: ThreadAttachmentRemoveParams,
            *,
            timeout: float | None = None,
        ) -> ThreadAttachmentRemoveResponse: ...
        @overload
        def request(
            self,
            method: Literal["thread/section/move"],
            params: ThreadSectionMoveParams,
            *,
            timeout: float | None = None,
        ) -> ThreadSectionMoveResponse: ...
        @overload
        def request(
            self,
            method: Literal["thread/unarchive"],
            params: ThreadUnarchiveParams,
            *,
            timeout: float | None = None,
        ) -> ThreadUnarchiveResponse: ...
        @overload
        def request(
            self,
            method: Literal["thread/compact/start"],
            params: ThreadCompactStartParams,
            *,
            timeout: float | None = None,
        ) -> ThreadCompactStartResponse: ...
        @overload
        def request(
            self,
            method: Literal["thread/shellCommand"],
            params: ThreadShellCommandParams,
            *,
            timeout: float | None = None,
        ) -> ThreadShellCommandResponse: ...
        @overload
        def request(
            self,
            method: Literal["thread/approveGuardianDeniedAction"],
            params: ThreadApproveGuardianDeniedActionParams,
            *,
            timeout: float | None = None,
        ) -> ThreadApproveGuardianDeniedActionResponse: ...
        @overload
        def request(
            self,
            method: Literal["thread/revert"],
            params: ThreadRevertParams,
            *,
            timeout: float | None = None,
        ) -> ThreadRevertResponse: ...
        @overload
        def request(
            self,
            method: Literal["thread/list"],
            params: ThreadListParams | None = None,
            *,
            timeout: float | None = None,
        ) -> ThreadListResponse: ...
        @overload
        def request(
            self,
            method: Literal["threadSection/list"],
            params: ThreadSectionListParams | None = None,
            *,
            timeout: float | None = None,
        ) -> ThreadSectionListResponse: ...
        @overload
        def request(
            self,
            method: Literal["threadSection/create"],
            params: ThreadSectionCreateParams,
            *,
            timeout: float | None = None,
        ) -> ThreadSectionCreateResponse: ...
        @overload
        def request(
            self,
            method: Literal["threadSection/update"],
            params: ThreadSectionUpdateParams,
            *,
            timeout: float | None = None,
        ) -> ThreadSectionUpdateResponse: ...
        @overload
        def request(
            self,
            method: Literal["threadSection/delete"],
            params: ThreadSectionDeleteParams,
            *,
            timeout: float | None = None,
        ) -> ThreadSectionDeleteResponse: ...
        @overload
        def request(
            self,
            method: Literal["thread/loaded/list"],
            params: ThreadLoadedListParams | None = None,
            *,
            timeout: float | None = None,
        ) -> ThreadLoadedListResponse: ...
        @overload
        def request(
            self,
            method: Literal["thread/read"],
            params: ThreadReadParams,
            *,
            timeout: float | None = None,
        ) -> ThreadReadResponse: ...
        @overload
        def request(
            self,
            method: Literal["thread/turns/list"],
            params: ThreadTurnsListParams,
            *,
            timeout: float | None = None,
        ) -> ThreadTurnsListResponse: ...
        @overload
        def request(
            self,
            method: Literal["thread/items/list"],
            params: ThreadItemsListParams,
            *,
            timeout: float | None = None,
        ) -> ThreadItemsListResponse: ...
        @overload
        def request(
            self,
            method: Literal["thread/inject_items"],
            params: ThreadInjectItemsParams,
            *,
            timeout: float | None = None,
        ) -> ThreadInjectItemsResponse: ...
        @overload
        def request(
            self,
            method: Literal["skills/list"],
            params: SkillsListParams | None = None,
            *,
            timeout: float | None = None,
        ) -> SkillsListResponse: ...
        @overload
        def request(
            self,
            method: Literal["skills/extraRoots/set"],
            params: SkillsExtraRootsSetParams,
            *,
            timeout: float | None = None,
        ) -> SkillsExtraRootsSetResponse: ...
        @overload
        def request(
            self,
            method: Literal["hooks/list"],
            params: HooksListParams | None = None,
            *,
            timeout: float | None = None,
        ) -> HooksListResponse: ...
        @overload
        def request(
            self,
            method: Literal["marketplace/add"],
            params: MarketplaceAddParams,
            *,
            timeout: float | None = None,
        ) -> MarketplaceAddResponse: ...
        @overload
        def request(
            self,
            method: Literal["marketplace/remove"],
            params: MarketplaceRemoveParams,
            *,
            timeout: float | None = None,
        ) -> MarketplaceRemoveResponse: ...
        @overload
        def request(
            self,
            method: Literal["marketplace/upgrade"],
            params: MarketplaceUpgradeParams | None = None,
            *,
            timeout: float | None = None,
        ) -> MarketplaceUpgradeResponse: ...
        @overload
        def request(
            self,
            method: Literal["plugin/list"],
            params: PluginListParams | None = None,
            *,
            timeout: float | None = None,
        ) -> PluginListResponse: ...
        @overload
        def request(
            self,
            method: Literal["plugin/installed"],
            params: PluginInstalledParams | None = None,
            *,
            timeout: float | None = None,
        ) -> PluginInstalledResponse: ...
        @overload
        def request(
            self,
            method: Literal["plugin/reconcile"],
            params: PluginReconcileParams | None = None,
            *,
            timeout: float | None = None,
        ) -> PluginReconcileResponse: ...
        @overload
        def request(
            self,
            method: Literal["plugin/read"],
            params: PluginReadParams,
            *,
            timeout: float | None = None,
        ) -> PluginReadResponse: ...
        @overload
        def request(
            self,
            method: Literal["plugin/skill/read"],
            params: PluginSkillReadParams,
            *,
            timeout: float | None = None,
        ) -> PluginSkillReadResponse: ...
        @overload
        def request(
            self,
            method: Literal["plugin/share/save"],
            params: PluginShareSaveParams,
            *,
            timeout: float | None = None,
        ) -> PluginShareSaveResponse: ...
        @overload
        def request(
            self,
            method: Literal["plugin/share/updateTargets"],
            params: PluginShareUpdateTargetsParams,
            *,
            timeout: float | None = None,
        ) -> PluginShareUpdateTargetsResponse: ...
        @overload
        def request(
            self,
            method: Literal["plugin/share/list"],
            params: PluginShareListParams | None = None,
            *,
            timeout: float | None = None,
        ) -> PluginShareListResponse: ...
        @overload
        def request(
            self,
            method: Literal["plugin/share/checkout"],
            params: PluginShareCheckoutParams,
            *,
            timeout: float | None = None,
        ) -> PluginShareCheckoutResponse: ...
        @overload
        def request(
            self,
            method: Literal["plugin/share/delete"],
            params: PluginShareDeleteParams,
            *,
            timeout: float | None = None,
        ) -> PluginShareDeleteResponse: ...
        @overload
        def request(
            self,
            method: Literal["app/read"],
            params: AppsReadParams,
            *,
            timeout: float | None = None,
        ) -> AppsReadResponse: ...
        @overload
        def request(
            self,
            method: Literal["app/list"],
            params: AppsListParams | None = None,
            *,
            timeout: float | None = None,
        ) -> AppsListResponse: ...
        @overload
        def request(
            self,
            method: Literal["app/installed"],
            params: AppsInstalledParams | None = None,
            *,
            timeout: float | None = None,
        ) -> AppsInstalledResponse: ...
        @overload
        def request(
            self,
            method: Literal["fs/readFile"],
            params: FsReadFileParams,
            *,
            timeout: float | None = None,
        ) -> FsReadFileResponse: ...
        @overload
        def request(
            self,
            method: Literal["fs/writeFile"],
            params: FsWriteFileParams,
            *,
            timeout: float | None = None,
        ) -> FsWriteFileResponse: ...
        @overload
        def request(
            self,
            method: Literal["fs/createDirectory"],
            params: FsCreateDirectoryParams,
            *,
            timeout: float | None = None,
        ) -> FsCreateDirectoryResponse: ...
        @overload
        def request(
            self,
            method: Literal["fs/getMetadata"],
            params: FsGetMetadataParams,
            *,
            timeout: float | None = None,
        ) -> FsGetMetadataResponse: ...
        @overload
        def request(
            self,
            method: Literal["fs/readDirectory"],
            params: FsReadDirectoryParams,
            *,
            timeout: float | None = None,
        ) -> FsReadDirectoryResponse: ...
        @overload
        def request(
            self,
            method: Literal["fs/remove"],
            params: FsRemoveParams,
            *,
            timeout: float | None = None,
        ) -> FsRemoveResponse: ...
        @overload
        def request(
            self, method: Literal["fs/copy"], params: FsCopyParams, *, timeout: float | None = None
        ) -> FsCopyResponse: ...
        @overload
        def request(
            self,
            method: Literal["fs/watch"],
            params: FsWatchParams,
            *,
            timeout: float | None = None,
        ) -> FsWatchResponse: ...
        @overload
        def request(
            self,
            method: Literal["fs/unwatch"],
            params: FsUnwatchParams,
            *,
            timeout: float | None = None,
        ) -> FsUnwatchResponse: ...
        @overload
        def request(
            self,
            method: Literal["skills/config/write"],
            params: SkillsConfigWriteParams,
            *,
            timeout: float | None = None,
        ) -> SkillsConfigWriteResponse: ...
        @overload
        def request(
            self,
            method: Literal["plugin/install"],
            params: PluginInstallParams,
            *,
            timeout: float | None = None,
        ) -> PluginInstallResponse: ...
        @overload
        def request(
            self,
            method: Literal["plugin/uninstall"],
            params: PluginUninstallParams,
            *,
            timeout: float | None = None,
        ) -> PluginUninstallResponse: ...
        @overload
        def request(
            self,
            method: Literal["turn/start"],
            params: TurnStartParams,
            *,
            timeout: float | None = None,
        ) -> TurnStartResponse: ...
        @overload
        def request(
            self,
            method: Literal["turn/steer"],
            params: TurnSteerParams,
            *,
            timeout: float | None = None,
        ) -> TurnSteerResponse: ...
        @overload
        def request(
            self,
            method: Literal["turn/interrupt"],
            params: TurnInterruptParams,
            *,
            timeout: float | None = None,
        ) -> TurnInterruptResponse: ...
        @overload
        def request(
            self,
            method: Literal["review/start"],
            params: ReviewStartParams,
            *,
            timeout: float | None = None,
        ) -> ReviewStartResponse: ...
        @overload
        def request(
            self,
            method: Literal["model/list"],
            params: ModelListParams | None = None,
            *,
            timeout: float | None = None,
        ) -> ModelListResponse: ...
        @overload
        def request(
            self,
            method: Literal["account/gatewayOAuth/read"],
            params: None = None,
            *,
            timeout: float | None = None,
        ) -> GatewayOAuthReadResponse: ...
        @overload
        def request(
            self,
            method: Literal["account/gatewayOAuth/login"],
            params: None = None,
            *,
            timeout: float | None = None,
        ) -> GatewayOAuthLoginResponse: ...
        @overload
        def request(
            self,
            method: Literal["account/gatewayOAuth/cancel"],
            params: None = None,
            *,
            timeout: float | None = None,
        ) -> GatewayOAuthCancelResponse: ...
        @overload
        def request(
            self,
            method: Literal["modelProvider/capabilities/read"],
            params: ModelProviderCapabilitiesReadParams | None = None,
            *,
            timeout: float | None = None,
        ) -> ModelProviderCapabilitiesReadResponse: ...
        @overload
        def request(
            self,
            method: Literal["experimentalFeature/list"],
            params: ExperimentalFeatureListParams | None = None,
            *,
            timeout: float | None = None,
        ) -> ExperimentalFeatureListResponse: ...
        @overload
        def request(
            self,
            method: Literal["permissionProfile/list"],
            params: PermissionProfileListParams | None = None,
            *,
            timeout: float | None = None,
        ) -> PermissionProfileListResponse: ...
        @overload
        def request(
            self,
            method: Literal["experimentalFeature/enablement/set"],
            params: ExperimentalFeatureEnablementSetParams,
            *,
            timeout: float | None = None,
        ) -> ExperimentalFeatureEnablementSetResponse: ...
        @overload
        def request(
            self,
            method: Literal["mcpServer/oauth/login"],
            params: McpServerOauthLoginParams,
            *,
            timeout: float | None = None,
        ) -> McpServerOauthLoginResponse: ...
        @overload
        def request(
            self,
            method: Literal["config/mcpServer/reload"],
            params: None = None,
            *,
            timeout: float | None = None,
        ) -> McpServerRefreshResponse: ...
        @overload
        def request(
            self,
            method: Literal["mcpServerStatus/list"],
            params: ListMcpServerStatusParams | None = None,
            *,
            timeout: float | None = None,
        ) -> ListMcpServerStatusResponse: ...
        @overload
        def request(
            self,
            method: Literal["mcpServer/resource/read"],
            params: McpResourceReadParams,
            *,
            timeout: float | None = None,
        ) -> McpResourceReadResponse: ...
        @overload
        def request(
            self,
            method: Literal["mcpServer/tool/call"],
            params: McpServerToolCallParams,
            *,
            timeout: float | None = None,
        ) -> McpServerToolCallResponse: ...
        @overload
        def request(
            self,
            method: Literal["windowsSandbox/setupStart"],
            params: WindowsSandboxSetupStartParams,
            *,
            timeout: float | None = None,
        ) -> WindowsSandboxSetupStartResponse: ...
        @overload
        def request(
            self,
            method: Literal["windowsSandbox/readiness"],
            params: None = None,
            *,
            timeout: float | None = None,
        ) -> WindowsSandboxReadinessResponse: ...
        @overload
        def request(
            self,
            method: Literal["account/login/start"],
            params: LoginAccountParams,
            *,
            timeout: float | None = None,
        ) -> LoginAccountResponse: ...
        @overload
        def request(
            self,
            method: Literal["account/login/cancel"],
            params: CancelLoginAccountParams,
            *,
            timeout: float | None = None,
        ) -> CancelLoginAccountResponse: ...
        @overload
        def request(
            self,
            method: Literal["account/logout"],
            params: None = None,
            *,
            timeout: float | None = None,
        ) -> LogoutAccountResponse: ...
        @overload
        def request(
            self,
            method: Literal["account/rateLimits/read"],
            params: None = None,
            *,
            timeout: float | None = None,
        ) -> GetAccountRateLimitsResponse: ...
        @overload
        def request(
            self,
            method: Literal["account/rateLimitResetCredit/consume"],
            params: ConsumeAccountRateLimitResetCreditParams,
            *,
            timeout: float | None = None,
        ) -> ConsumeAccountRateLimitResetCreditResponse: ...
        @overload
        def request(
            self,
            method: Literal["account/usage/read"],
            params: None = None,
            *,
            timeout: float | None = None,
        ) -> GetAccountTokenUsageResponse: ...
        @overload
        def request(
            self,
            method: Literal["account/workspaceMessages/read"],
            params: None = None,
            *,
            timeout: float | None = None,
        ) -> GetWorkspaceMessagesResponse: ...
        @overload
        def request(
            self,
            method: Literal["account/sendAddCreditsNudgeEmail"],
            params: SendAddCreditsNudgeEmailParams,
            *,
            timeout: float | None = None,
        ) -> SendAddCreditsNudgeEmailResponse: ...
        @overload
        def request(
            self,
            method: Literal["feedback/upload"],
            params: FeedbackUploadParams,
            *,
            timeout: float | None = None,
        ) -> FeedbackUploadResponse: ...
        @overload
        def request(
            self,
            method: Literal["command/exec"],
            params: CommandExecParams,
            *,
            timeout: float | None = None,
        ) -> CommandExecResponse: ...
        @overload
        def request(
            self,
            method: Literal["command/exec/write"],
            params: CommandExecWriteParams,
            *,
            timeout: float | None = None,
        ) -> CommandExecWriteResponse: ...
        @overload
        def request(
            self,
            method: Literal["command/exec/terminate"],
            params: CommandExecTerminateParams,
            *,
            timeout: float | None = None,
        ) -> CommandExecTerminateResponse: ...
        @overload
        def request(
            self,
            method: Literal["command/exec/resize"],
            params: CommandExecResizeParams,
            *,
            timeout: float | None = None,
        ) -> CommandExecResizeResponse: ...
        @overload
        def request(
            self,
            method: Literal["config/read"],
            params: ConfigReadParams | None = None,
            *,
            timeout: float | None = None,
        ) -> ConfigReadResponse: ...
        @overload
        def request(
            self,
            method: Literal["externalAgentConfig/detect"],
            params: ExternalAgentConfigDetectParams | None = None,
            *,
            timeout: float | None = None,
        ) -> ExternalAgentConfigDetectResponse: ...
        @overload
        def request(
            self,
            method: Literal["externalAgentConfig/import"],
            params: ExternalAgentConfigImportParams,
            *,
            timeout: float | None = None,
        ) -> ExternalAgentConfigImportResponse: ...
        @overload
        def request(
            self,
            method: Literal["externalAgentConfig/import/recordHistory"],
            params: ExternalAgentConfigImportHistoryRecordParams,
            *,
            timeout: float | None = None,
        ) -> ExternalAgentConfigImportHistoryRecordResponse: ...
        @overload
        def request(
            self,
            method: Literal["externalAgentConfig/import/readHistories"],
            params: None = None,
            *,
            timeout: float | None = None,
        ) -> ExternalAgentConfigImportHistoriesReadResponse: ...
        @overload
        def request(
            self,
            method: Literal["config/value/write"],
            params: ConfigValueWriteParams,
            *,
            timeout: float | None = None,
        ) -> ConfigWriteResponse: ...
        @overload
        def request(
            self,
            method: Literal["config/batchWrite"],
            params: ConfigBatchWriteParams,
            *,
            timeout: float | None = None,
        ) -> ConfigWriteResponse: ...
        @overload
        def request(
            self,
            method: Literal["configRequirements/read"],
            params: None = None,
            *,
            timeout: float | None = None,
        ) -> ConfigRequirementsReadResponse: ...
        @overload
        def request(
            self,
            method: Literal["account/read"],
            params: GetAccountParams | None = None,
            *,
            timeout: float | None = None,
        ) -> GetAccountResponse: ...
        @overload
        def request(
            self,
            method: Literal["fuzzyFileSearch"],
            params: FuzzyFileSearchParams,
            *,
            timeout: float | None = None,
        ) -> FuzzyFileSearchResponse: ...
        @overload
        @deprecated("params do not match this method's params type")
        def request(
            self,
            method: ClientMethod,
            params: Mapping[str, Any] | None = None,
            *,
            timeout: float | None = None,
        ) -> Any: ...
        @overload
        def request(
            self,
            method: str,
            params: Mapping[str, Any] | None = None,
            *,
            timeout: float | None = None,
        ) -> Any: ...

    def request(
        self, method: str, params: Mapping[str, Any] | None = None, *, timeout: float | None = None
    ) -> Any:
        """Send any request and return the server's ``result`` as it came.

        Known methods are typed: ``params`` must match the method's params TypedDict and the
        result is its response TypedDict (static typing only; nothing is validated at run
        time, unknown fields and values pass through). Other methods are accepted untyped.

        Args:
            method: the protocol method, e.g. ``"thread/list"``.
            params: the params object; ``{}`` is sent when omitted.
            timeout: seconds to wait for the answer; the client's ``request_timeout`` when
                ``None``.

        Raises:
            CodexProtocolError: the server answered with a JSON-RPC error (``.code``,
                ``.data``); ``-32001`` overload answers are retried with backoff first.
            CodexTimeoutError: no answer in time.
            CodexTransportError: the connection is closed or ended while waiting.
            CodexError: an experimental method or field without ``experimental_api=True``.
        """
        return self._request(method, params, timeout=timeout)
