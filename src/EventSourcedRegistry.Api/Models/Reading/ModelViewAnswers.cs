using Microsoft.Extensions.Caching.Memory;

namespace EventSourcedRegistry.Api.Models.Reading;

/// <summary>
/// This node's copies of model views as it last answered them (the wire's JSON and the revision), each with the version of
/// the stored row it was made from: PostgreSQL's <c>xmin</c> (the transaction that wrote that row version) with Marten's
/// last-modified time. A read asks the store for the row's version, and for its JSON only when that is not the copy's (<see cref="StoredModelView"/>,
/// one statement); a match answers the copy, so a view is converted to text by PostgreSQL and reshaped once per change, not
/// once per read: a long history's view (thousands of archived versions, each a jsonb number PostgreSQL prints) then costs a
/// read what a short one does.
/// </summary>
/// <remarks>
/// <para>Never stale: every read compares with the row as the store has it now, so a write by any node, by the rebuild or by
/// hand is seen at the next read (each commits a new <c>xmin</c>). Two committed versions of a row share an <c>xmin</c> only
/// when transaction ids wrap around (2^32 of them; a copy lives at most <see cref="Lifetime"/>, far less than PostgreSQL needs
/// to use that many) or when another database takes the store's place (a restore): then the last-modified time, copied with
/// the row, still tells versions apart. A version that merely differs in spelling is a miss, never a wrong answer.</para>
/// <para>Why not ASP.NET Core's output cache: it answers without asking the store, so it could only be kept true by evicting
/// on every write, on every node, including writes it does not see (the rebuild, another node). IMemoryCache keeps the
/// copies; what makes them safe is the comparison, which no cache offers.</para>
/// </remarks>
public sealed class ModelViewAnswers
{
    public const string Section = "Registry:Reads:ModelViewCacheMegabytes";
    public const int DefaultMegabytes = 64;
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    /// <summary>A view as answered: the row version it was made from, the wire's JSON, the revision (the ETag).</summary>
    public sealed record Answer(string RowVersion, byte[] Json, long Revision);

    private readonly MemoryCache? _copies;
    private readonly long _largest;

    public ModelViewAnswers(long bytes)
    {
        if (bytes < 0) throw new InvalidOperationException($"{Section} must be 0 (no copies) or more.");
        if (bytes == 0) return;
        _copies = new MemoryCache(new MemoryCacheOptions { SizeLimit = bytes });
        // One view never takes more than a sixteenth of the space, so one huge model cannot push every other out.
        _largest = bytes / 16;
    }

    public static ModelViewAnswers From(IConfiguration configuration)
    {
        var megabytes = configuration.GetValue(Section, DefaultMegabytes);
        return new ModelViewAnswers(megabytes * 1024L * 1024L);
    }

    public Answer? Find(string tenant, string normalizedName) =>
        _copies is not null && _copies.TryGetValue((tenant, normalizedName), out Answer? answer) ? answer : null;

    public void Keep(string tenant, string normalizedName, Answer answer)
    {
        if (_copies is null || answer.Json.Length > _largest) return;
        _copies.Set((tenant, normalizedName), answer, new MemoryCacheEntryOptions
        {
            Size = answer.Json.Length + 64,
            AbsoluteExpirationRelativeToNow = Lifetime,
        });
    }
}
