using System.Security.Cryptography;
using EventSourcedRegistry.Artifacts;

namespace EventSourcedRegistry.Tests.Artifacts;

public class when_reading_through_a_verifying_stream
{
    private static readonly byte[] Bytes = Enumerable.Range(0, 10_000).Select(i => (byte)(i * 7)).ToArray();
    private static readonly string Sha256 = Convert.ToHexStringLower(SHA256.HashData(Bytes));

    private static async Task<byte[]> ReadAll(Stream stream, int chunk = 1000)
    {
        var output = new MemoryStream();
        var buffer = new byte[chunk];
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0) output.Write(buffer, 0, n);
        return output.ToArray();
    }

    [Fact]
    public async Task intact_bytes_pass_through_unchanged()
    {
        var verifying = new VerifyingStream(new MemoryStream(Bytes), Sha256, Bytes.Length);

        Assert.Equal(Bytes, await ReadAll(verifying));
        Assert.Equal(0, await verifying.ReadAsync(new byte[10]));
    }

    [Fact]
    public async Task a_flipped_bit_throws_at_the_end_instead_of_reporting_it()
    {
        var rotten = Bytes.ToArray();
        rotten[5000] ^= 0x10;
        var verifying = new VerifyingStream(new MemoryStream(rotten), Sha256, Bytes.Length);

        var corrupted = await Assert.ThrowsAsync<ArtifactCorruptedException>(() => ReadAll(verifying));

        Assert.Equal(Sha256, corrupted.Sha256);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(rotten)), corrupted.ActualSha256);
    }

    [Fact]
    public async Task missing_bytes_throw()
    {
        var verifying = new VerifyingStream(new MemoryStream(Bytes[..^1]), Sha256, Bytes.Length);

        await Assert.ThrowsAsync<ArtifactCorruptedException>(() => ReadAll(verifying));
    }

    [Fact]
    public async Task extra_bytes_throw_as_soon_as_they_arrive()
    {
        var verifying = new VerifyingStream(new MemoryStream([.. Bytes, 1, 2, 3]), Sha256, Bytes.Length);

        await Assert.ThrowsAsync<ArtifactCorruptedException>(() => ReadAll(verifying, chunk: 20_000));
    }

    [Fact]
    public void synchronous_reads_verify_too()
    {
        var rotten = Bytes.ToArray();
        rotten[0] ^= 0x01;
        var verifying = new VerifyingStream(new MemoryStream(rotten), Sha256, Bytes.Length);

        Assert.Throws<ArtifactCorruptedException>(() => verifying.CopyTo(Stream.Null));
    }
}
