using EventSourcedRegistry.Cli.Commands;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EventSourcedRegistry.Cli;

/// <summary>The <c>esr</c> command tree; tests run it in-process with a test server behind <see cref="CliEnvironment"/>.</summary>
public static class EsrApp
{
    public static async Task<int> RunAsync(string[] args, CliEnvironment env, CancellationToken ct = default)
    {
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName("esr");
            config.Settings.Console = env.Console;
            config.Settings.Registrar.RegisterInstance(env);
            config.SetExceptionHandler((exception, _) =>
            {
                // Parse errors and unknown commands are usage errors; anything else escaped a command.
                env.Error.WriteLine($"esr: {exception.Message}");
                return exception is CommandAppException ? ExitCodes.Usage : ExitCodes.Failed;
            });

            config.AddBranch("models", models =>
            {
                models.SetDescription("Register, list and show models.");
                models.AddCommand<RegisterModelCommand>("register").WithExample("models", "register", "churn", "--tag", "team=growth");
                models.AddCommand<ListModelsCommand>("list");
                models.AddCommand<ShowModelCommand>("show");
            });
            config.AddBranch("versions", versions =>
            {
                versions.SetDescription("Register, list and show model versions.");
                versions.AddCommand<RegisterVersionCommand>("register")
                    .WithExample("versions", "register", "churn", "--artifact", "model.onnx", "--run-id", "42", "--metric", "auc=0.91");
                versions.AddCommand<ListVersionsCommand>("list");
                versions.AddCommand<ShowVersionCommand>("show");
            });
            config.AddCommand<StageCommand>("stage").WithDescription("Move a version to a lifecycle stage.")
                .WithExample("stage", "churn", "2", "Production", "--archive-existing", "--reason", "beats v1");
            config.AddBranch("requests", requests =>
            {
                requests.SetDescription("Transition requests waiting for four-eyes approval: list, show, approve, reject.");
                requests.AddCommand<ListRequestsCommand>("list").WithExample("requests", "list", "churn", "--state", "pending");
                requests.AddCommand<ShowRequestCommand>("show");
                requests.AddCommand<ApproveRequestCommand>("approve")
                    .WithExample("requests", "approve", "churn", "0d5c2a3e-6f1b-4c1e-9a57-3f6d2b8e4c10", "--reason", "eval report checked");
                requests.AddCommand<RejectRequestCommand>("reject");
            });
            config.AddBranch("alias", alias =>
            {
                alias.SetDescription("Point, remove and resolve aliases.");
                alias.AddCommand<SetAliasCommand>("set");
                alias.AddCommand<RemoveAliasCommand>("remove");
                alias.AddCommand<ShowAliasCommand>("show");
            });
            config.AddCommand<DeployCommand>("deploy").WithDescription("Report a deployment (or --undeploy) of a version.");
            config.AddCommand<HistoryCommand>("history").WithDescription("A model's events, oldest first.");
            config.AddCommand<ShowModelCommand>("state").WithDescription("A model as it stands (with its requests waiting for approval), or as it stood --as-of / --at-sequence.")
                .WithExample("state", "churn", "--as-of", "2026-03-03T14:00:00Z");
            config.AddCommand<RegistryStateCommand>("registry").WithDescription("Every model's stages, aliases and deployments, now or then.");
            config.AddCommand<ChangesCommand>("changes").WithDescription("Stage, alias and deployment changes between two points.");
            config.AddCommand<RollbackCommand>("rollback").WithDescription("Roll a model back to a point in history (see the plan with --dry-run).")
                .WithExample("rollback", "churn", "--to", "2026-03-03T14:00:00Z", "--reason", "v3 regressed", "--dry-run");
            config.AddCommand<AuditCommand>("audit").WithDescription("Query the audit log, or --export it as ndjson or csv.");
            config.AddCommand<VerifyCommand>("verify").WithDescription("Recompute the audit hash chain.");
            config.AddBranch("keys", keys =>
            {
                keys.SetDescription("Create, list and revoke API keys (admin).");
                keys.AddCommand<CreateKeyCommand>("create").WithExample("keys", "create", "ci-churn", "--owner", "churn-team", "--grant", "contributor:churn");
                keys.AddCommand<ListKeysCommand>("list");
                keys.AddCommand<RevokeKeyCommand>("revoke");
            });
            config.AddBranch("workspaces", workspaces =>
            {
                workspaces.SetDescription("Create, list, rename and archive workspaces (platform admin; members list their own).");
                workspaces.AddCommand<ListWorkspacesCommand>("list");
                workspaces.AddCommand<CreateWorkspaceCommand>("create").WithExample("workspaces", "create", "team-a", "Team A");
                workspaces.AddCommand<ShowWorkspaceCommand>("show");
                workspaces.AddCommand<RenameWorkspaceCommand>("rename");
                workspaces.AddCommand<ArchiveWorkspaceCommand>("archive");
            });
            config.AddBranch("artifacts", artifacts =>
            {
                artifacts.SetDescription("Upload, download and verify artifacts.");
                artifacts.AddCommand<UploadArtifactCommand>("upload");
                artifacts.AddCommand<DownloadArtifactCommand>("download");
                artifacts.AddCommand<VerifyArtifactCommand>("verify");
            });
        });
        return await app.RunAsync(args, ct);
    }
}
