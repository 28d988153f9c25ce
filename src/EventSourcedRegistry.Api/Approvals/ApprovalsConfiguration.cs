using EventSourcedRegistry.Api.Settings;
using EventSourcedRegistry.Approvals;
using EventSourcedRegistry.Lifecycle;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EventSourcedRegistry.Api.Approvals;

public static class ApprovalsConfiguration
{
    /// <summary>
    /// Binds <c>Registry:Approvals</c> and validates it against the lifecycle, so a misconfiguration stops the app at
    /// startup. An empty value for <c>ProtectedStages</c> or <c>ProtectedAliases</c> (env
    /// <c>Registry__Approvals__ProtectedStages=</c>) protects none.
    /// </summary>
    public static WebApplicationBuilder AddApprovals(this WebApplicationBuilder builder, LifecycleOptions lifecycleOptions, Lifecycle.Lifecycle lifecycle)
    {
        var section = builder.Configuration.GetSection(ApprovalOptions.Section);
        var options = new ApprovalOptions
        {
            ProtectedStages = List(section.GetSection(nameof(ApprovalOptions.ProtectedStages))),
            ProtectedAliases = List(section.GetSection(nameof(ApprovalOptions.ProtectedAliases))),
            RequiredApprovals = section.GetValue<int?>(nameof(ApprovalOptions.RequiredApprovals)),
            ApprovalLifetime = section.GetValue<TimeSpan?>(nameof(ApprovalOptions.ApprovalLifetime)),
        };
        ApprovalPolicy.From(options, lifecycle);
        // Lifecycle and ApprovalPolicy are scoped: the request's workspace's own policy, these options where it set none.
        builder.Services.AddWorkspacePolicies(new PolicyDefaults(lifecycleOptions, options));
        builder.Services.TryAddSingleton(TimeProvider.System);
        return builder;
    }

    // A list is given as children (ProtectedStages:0, ...), or as one value: empty for none, or comma-separated.
    private static string[]? List(IConfigurationSection section)
    {
        var children = section.GetChildren().Where(c => c.Value is not null).Select(c => c.Value!).ToArray();
        if (children.Length > 0) return children;
        if (section.Value is null) return null;
        return section.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }
}
