using EventSourcedRegistry.Api.Artifacts;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Validation;

namespace EventSourcedRegistry.Api.Hosting;

/// <summary>
/// What one caller may cost the registry: request rates and concurrent uploads (<see cref="RateLimits"/>), the artifact
/// quota, record caps (<see cref="RecordLimits"/>), and how long idempotency records are kept. Read and checked at
/// startup: a bad value stops the app with a message naming the setting.
/// </summary>
public static class LimitsConfiguration
{
    public static WebApplicationBuilder AddRegistryLimits(this WebApplicationBuilder builder)
    {
        var records = builder.Configuration.GetSection(RecordLimits.Section).Get<RecordLimits>() ?? new RecordLimits();
        records.Validate();
        builder.Services.AddSingleton(records);

        builder.Services.AddSingleton(IdempotencySettings.From(builder.Configuration, TimeProvider.System));
        builder.Services.AddSingleton<IdempotencyRetention>();
        builder.Services.AddHostedService(services => services.GetRequiredService<IdempotencyRetention>());

        builder.Services.AddRegistryRateLimits(RateLimitSettings.From(builder.Configuration), ArtifactSettings.From(builder.Configuration));
        return builder;
    }
}
