using System.Buffers.Binary;
using Dtr.AspNetCore.Security;

namespace Dtr.AspNetCore.Tests.Security;

public sealed class CredentialHelperTests
{
    [Fact]
    public void PasswordHash_VerifiesOnlyTheSamePassword()
    {
        var hash = PasswordHashing.Hash("correct horse");

        Assert.True(PasswordHashing.Verify(hash, "correct horse"));
        Assert.False(PasswordHashing.Verify(hash, "correct horsE"));
        Assert.False(PasswordHashing.Verify(hash, ""));
    }

    [Fact]
    public void PasswordHash_UsesPbkdf2WithEnoughIterations()
    {
        // Identity v3 layout: format marker 0x01, PRF (big-endian uint32), iteration count, salt length, salt, subkey.
        var bytes = Convert.FromBase64String(PasswordHashing.Hash("secret"));

        Assert.Equal(0x01, bytes[0]);
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(1)));
        Assert.True(BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(5)) >= PasswordHashing.MinimumIterations);
    }

    [Fact]
    public void PasswordHash_MalformedHashFailsVerification()
    {
        Assert.False(PasswordHashing.Verify("not base64!", "secret"));
        Assert.False(PasswordHashing.Verify("AAAA", "secret"));
    }

    [Fact]
    public void AccessToken_CreateThenParse()
    {
        var (id, token, secretHash) = AccessTokens.Create();

        Assert.StartsWith("dtr_pat_" + id + "_", token, StringComparison.Ordinal);
        Assert.True(id.Length >= 16);
        Assert.True(AccessTokens.TryParse(token, out var parsedId, out var secret));
        Assert.Equal(id, parsedId);
        Assert.True(AccessTokens.VerifySecret(secret, secretHash));
        Assert.False(AccessTokens.VerifySecret(secret[..^1] + (secret[^1] == 'A' ? 'B' : 'A'), secretHash));
    }

    [Fact]
    public void AccessToken_TokensDiffer()
    {
        var first = AccessTokens.Create();
        var second = AccessTokens.Create();

        Assert.NotEqual(first.Id, second.Id);
        Assert.NotEqual(first.Token, second.Token);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("password")]
    [InlineData("dtr_pat_")]
    [InlineData("dtr_pat_abc_def")]
    [InlineData("dtr_pat_AAAAAAAAAAAAAAAA-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("dtr_pat_AAAAAAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("xtr_pat_AAAAAAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public void AccessToken_ParseRejectsMalformed(string? text)
    {
        Assert.False(AccessTokens.TryParse(text, out _, out _));
    }
}
