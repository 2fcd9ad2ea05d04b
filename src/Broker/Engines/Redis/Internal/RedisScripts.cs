namespace Broker.Engines.Redis.Internal;

/// <summary>
/// The Lua scripts that make each engine operation one atomic step in Redis. Every script touches only
/// the keys of one channel (one hash slot: <see cref="RedisKeys"/>), so each works on Redis Cluster.
/// Times are Unix milliseconds from the node's <see cref="TimeProvider"/>, passed in, never Redis's
/// clock: the engine honours the clock it is given (tests move it), and scripts stay deterministic
/// for Redis 5's verbatim script replication. Lua numbers are doubles: offsets and times stay exact
/// below 2^53, and <c>..</c> prints them in full below 10^14 (Lua's <c>%.14g</c>).
/// </summary>
internal static class RedisScripts
{
    /// <summary>
    /// Publish. KEYS: meta, stream, idempotency key (any key of the channel when none).
    /// ARGV: now ms, epoch to use if the channel has none, history size, history TTL ms, numbering TTL ms,
    /// idempotency window ms (0: no key), body, pub/sub channel.
    /// Returns { epoch, offset, duplicate (0/1) }.
    /// </summary>
    public const string Publish = """
        local now = tonumber(ARGV[1])
        local window = tonumber(ARGV[6])
        if window > 0 then
          local cached = redis.call('GET', KEYS[3])
          if cached then
            local expires, offset, epoch = string.match(cached, '^(%d+) (%d+) (%S+)$')
            if expires and tonumber(expires) > now then
              return { epoch, tonumber(offset), 1 }
            end
          end
        end

        local epoch = redis.call('HGET', KEYS[1], 'e')
        if not epoch then
          -- A new life of the channel's numbering: whatever an old stream holds belongs to a lost epoch.
          epoch = ARGV[2]
          redis.call('HSET', KEYS[1], 'e', epoch)
          redis.call('DEL', KEYS[2])
        end

        local offset = redis.call('HINCRBY', KEYS[1], 'o', 1)
        local ttl = tonumber(ARGV[4])
        redis.call('HSET', KEYS[1], 't', ARGV[4])
        redis.call('PEXPIRE', KEYS[1], math.max(tonumber(ARGV[5]), ttl))

        local size = tonumber(ARGV[3])
        if size > 0 then
          -- Exact MAXLEN, not '~': HistorySize is a promise (the spec reads exactly the newest N).
          -- The id is the offset, so a read 'since' is one XRANGE from offset+1.
          redis.call('XADD', KEYS[2], 'MAXLEN', size, offset .. '-0', 't', ARGV[1], 'b', ARGV[7])
          if ttl > 0 then
            redis.call('PEXPIRE', KEYS[2], ttl)
          end
        else
          redis.call('DEL', KEYS[2])
        end

        redis.call('PUBLISH', ARGV[8], 'P' .. offset .. ' ' .. epoch .. ' ' .. ARGV[7])
        if window > 0 then
          redis.call('SET', KEYS[3], (now + window) .. ' ' .. offset .. ' ' .. epoch, 'PX', window)
        end

        return { epoch, offset, 0 }
        """;

    /// <summary>
    /// History read, one snapshot of meta and stream. KEYS: meta, stream.
    /// ARGV: now ms, epoch to use if the channel has none, numbering TTL ms, has since (0/1), since epoch,
    /// since offset, limit (-1: all).
    /// Returns { epoch, offset, recovered (0/1), offset1, body1, offset2, body2, … } oldest first.
    /// Kept means younger than the TTL the last publish gave; expiry runs from the oldest entry, as a ring's does.
    /// </summary>
    public const string ReadHistory = """
        local now = tonumber(ARGV[1])
        local meta = redis.call('HMGET', KEYS[1], 'e', 'o', 't')
        local epoch = meta[1]
        local top = tonumber(meta[2] or '0')
        if not epoch then
          -- Name the epoch now, so a client that saw offset 0 recovers across the first publish.
          epoch = ARGV[2]
          top = 0
          redis.call('HSET', KEYS[1], 'e', epoch, 'o', 0)
          redis.call('PEXPIRE', KEYS[1], ARGV[3])
          redis.call('DEL', KEYS[2])
        end

        local cutoff = now - tonumber(meta[3] or '0')
        local limit = tonumber(ARGV[7])
        local result = { epoch, top, 0 }

        local function id_offset(id)
          return tonumber(string.match(id, '^(%d+)'))
        end

        local function append(entries, from, to, step)
          for i = from, to, step do
            local entry = entries[i]
            result[#result + 1] = id_offset(entry[1])
            result[#result + 1] = entry[2][4]
          end
        end

        if ARGV[4] == '1' and ARGV[5] == epoch and tonumber(ARGV[6]) <= top then
          local since = tonumber(ARGV[6])
          if since == top then
            result[3] = 1
            return result
          end

          local count = limit
          if count < 1 then count = 1 end
          local entries
          if limit < 0 then
            entries = redis.call('XRANGE', KEYS[2], (since + 1) .. '-0', '+')
          else
            entries = redis.call('XRANGE', KEYS[2], (since + 1) .. '-0', '+', 'COUNT', count)
          end

          local first = entries[1]
          if first and id_offset(first[1]) == since + 1 and tonumber(first[2][2]) > cutoff then
            result[3] = 1
            if limit ~= 0 then
              append(entries, 1, #entries, 1)
            end
            return result
          end
        end

        if limit == 0 then
          return result
        end

        if ARGV[4] ~= '1' then
          -- The newest `limit`, oldest first: read backwards and stop at the first expired one.
          local entries
          if limit < 0 then
            entries = redis.call('XREVRANGE', KEYS[2], '+', '-')
          else
            entries = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', limit)
          end

          local kept = 0
          while kept < #entries and tonumber(entries[kept + 1][2][2]) > cutoff do
            kept = kept + 1
          end

          append(entries, kept, 1, -1)
          return result
        end

        -- Not recoverable: what is kept, from the oldest. The stream is capped at HistorySize, so
        -- reading it whole to skip the expired head costs at most that many entries.
        local entries = redis.call('XRANGE', KEYS[2], '-', '+')
        local start = 1
        while start <= #entries and tonumber(entries[start][2][2]) <= cutoff do
          start = start + 1
        end

        local stop = #entries
        if limit > 0 and start + limit - 1 < stop then
          stop = start + limit - 1
        end

        append(entries, start, stop, 1)
        return result
        """;

    /// <summary>
    /// Join. KEYS: presence, presence users, presence of this node, meta.
    /// ARGV: member field, user id ('' when none), has user (0/1), pub/sub channel, connections to add.
    /// Publishes a join frame when the user's count goes from 0, and returns it (else nil).
    /// </summary>
    public const string Join = """
        local by = tonumber(ARGV[5])
        redis.call('HINCRBY', KEYS[3], ARGV[1], by)
        redis.call('HINCRBY', KEYS[1], ARGV[1], by)
        if ARGV[3] == '1' and redis.call('HINCRBY', KEYS[2], ARGV[2], by) == by then
          local m = redis.call('HMGET', KEYS[4], 'e', 'o')
          local frame = 'J' .. (m[2] or '0') .. ' ' .. (m[1] or '.') .. ' ' .. ARGV[2]
          redis.call('PUBLISH', ARGV[4], frame)
          return frame
        end
        return false
        """;

    /// <summary>
    /// Leave. KEYS and ARGV as <see cref="Join"/> (without the count). A member this node does not hold
    /// is ignored, as a leave without its join. Publishes a leave frame with the user's last connection, and returns it (else nil).
    /// </summary>
    public const string Leave = """
        local held = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0')
        if held < 1 then
          return false
        end
        if held == 1 then redis.call('HDEL', KEYS[3], ARGV[1]) else redis.call('HINCRBY', KEYS[3], ARGV[1], -1) end
        if redis.call('HINCRBY', KEYS[1], ARGV[1], -1) < 1 then redis.call('HDEL', KEYS[1], ARGV[1]) end
        if ARGV[3] == '1' and redis.call('HINCRBY', KEYS[2], ARGV[2], -1) < 1 then
          redis.call('HDEL', KEYS[2], ARGV[2])
          local m = redis.call('HMGET', KEYS[4], 'e', 'o')
          local frame = 'L' .. (m[2] or '0') .. ' ' .. (m[1] or '.') .. ' ' .. ARGV[2]
          redis.call('PUBLISH', ARGV[4], frame)
          return frame
        end
        return false
        """;

    /// <summary>
    /// Removes everything one node held in a channel's presence (the node died or stopped), publishing a
    /// leave for each user whose last connections these were. KEYS as <see cref="Join"/> (the node's key
    /// is the dead node's); ARGV: pub/sub channel. Idempotent: the node's key is gone afterwards.
    /// </summary>
    public const string DropNode = """
        local held = redis.call('HGETALL', KEYS[3])
        local m = nil
        for i = 1, #held, 2 do
          local member, count = held[i], tonumber(held[i + 1])
          if redis.call('HINCRBY', KEYS[1], member, -count) < 1 then redis.call('HDEL', KEYS[1], member) end
          local sep = string.find(member, '\31', 1, true)
          if sep then
            local user = string.sub(member, sep + 1)
            if redis.call('HINCRBY', KEYS[2], user, -count) < 1 then
              redis.call('HDEL', KEYS[2], user)
              if not m then m = redis.call('HMGET', KEYS[4], 'e', 'o') end
              redis.call('PUBLISH', ARGV[1], 'L' .. (m[2] or '0') .. ' ' .. (m[1] or '.') .. ' ' .. user)
            end
          end
        end
        redis.call('DEL', KEYS[3])
        return #held / 2
        """;

    /// <summary>
    /// A node's heartbeat. KEYS: nodes. ARGV: node id, new deadline (Unix ms).
    /// Returns 1 when renewed, 2 when the node was not registered (first beat, or Redis lost it), 0 when
    /// another node claimed it for cleanup (a negative score): the caller must register under a new id.
    /// </summary>
    public const string Heartbeat = """
        local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
        if s and tonumber(s) < 0 then
          return 0
        end
        redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
        if s then return 1 end
        return 2
        """;

    /// <summary>
    /// Claims a dead node for cleanup. KEYS: nodes. ARGV: node id, now ms, lease deadline ms.
    /// A node is dead when its deadline passed; a claim is stored as the negated lease deadline, so a
    /// claimer that dies mid-cleanup leaves a claim that expires and is taken again. Returns 1 if claimed.
    /// </summary>
    public const string ClaimDeadNode = """
        local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
        if not s then return 0 end
        s = tonumber(s)
        local now = tonumber(ARGV[2])
        if s > now or s < -now then return 0 end
        redis.call('ZADD', KEYS[1], -tonumber(ARGV[3]), ARGV[1])
        return 1
        """;
}
