using EventSourcedRegistry.Api.Infrastructure;

namespace EventSourcedRegistry.Api.Hosting;

/// <summary>
/// What one caller may cost the registry: how long idempotency records are kept. Read and checked at startup: a bad
/// value stops the app with a message naming the setting.
/// </summary>
public static class LimitsConfiguration
{
    public static WebApplicationBuilder AddRegistryLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton(IdempotencySettings.From(builder.Configuration, TimeProvider.System));
        builder.Services.AddSingleton<IdempotencyRetention>();
        builder.Services.AddHostedService(services => services.GetRequiredService<IdempotencyRetention>());
        return builder;
    }
}
