import { scoreInConversation } from './score';
import { CALM, testModel } from './test-model';
import { repeatOf, trajectoryOf } from './trajectory';

const m = (
  messageId: string,
  valence: number,
  text = `message ${messageId}`,
  frustration?: number,
) => ({
  messageId,
  text,
  valence,
  ...(frustration === undefined ? {} : { frustration }),
});

describe('trajectoryOf', () => {
  it('given a conversation that sours, then it reports the shift and the message where it turned', () => {
    const t = trajectoryOf([m('a', 0.4), m('b', 0.1)], m('c', -0.9));
    expect(t.start).toBe(0.4);
    expect(t.smoothed).toBeCloseTo(0.5 * -0.9 + 0.5 * (0.5 * 0.1 + 0.5 * 0.4), 4);
    expect(t.change).toBeLessThan(-0.4);
    expect(t.turnedAtMessageId).toBe('c');
    expect(t.shift).toBe(true);
    expect(t.messages).toBe(3);
  });

  it('given one bad message in a calm conversation, then it is no shift', () => {
    const t = trajectoryOf([m('a', 0.1), m('b', 0.2), m('c', 0.1)], m('d', -0.5));
    expect(t.shift).toBe(false);
    expect(t.change).toBeLessThan(0);
  });

  it('given a conversation that starts angry and stays so, then it is no shift (nothing changed)', () => {
    const t = trajectoryOf([m('a', -0.8)], m('b', -0.7));
    expect(t.shift).toBe(false);
    expect(t.turnedAtMessageId).toBe('');
  });

  it('given the first message, then the trajectory is that message alone', () => {
    expect(trajectoryOf([], m('a', -0.3))).toEqual({
      smoothed: -0.3,
      start: -0.3,
      change: 0,
      turnedAtMessageId: '',
      shift: false,
      messages: 1,
    });
  });

  it('skips earlier messages that were never scored', () => {
    const t = trajectoryOf([{ messageId: 'a', text: 'x' }, m('b', 0.5)], m('c', 0.5));
    expect(t.messages).toBe(2);
    expect(t.start).toBe(0.5);
  });
});

describe('the smoothed frustration', () => {
  it('given frustration that lasts, then it rises towards its level from a calm start', () => {
    const a = m('a', -0.5, 'x', 0.8);
    const b = m('b', -0.5, 'y', 0.8);
    expect(trajectoryOf([], a).frustration).toBe(0.4);
    expect(trajectoryOf([a], b).frustration).toBe(0.6);
    expect(trajectoryOf([a, b], m('c', -0.5, 'z', 0.8)).frustration).toBe(0.7);
  });

  it('given one outburst after calm turns, then it counts half', () => {
    const t = trajectoryOf([m('a', 0.2, 'x', 0), m('b', 0.2, 'y', 0)], m('c', -0.8, 'z', 0.9));
    expect(t.frustration).toBe(0.45);
  });

  it('skips earlier messages scored before the frustration score, and is absent without one', () => {
    expect(trajectoryOf([m('a', 0.1)], m('b', -0.5, 'y', 0.6)).frustration).toBe(0.3);
    expect(trajectoryOf([m('a', 0.1, 'x', 0.6)], m('b', -0.5))).not.toHaveProperty('frustration');
  });
});

describe('repeatOf', () => {
  const earlier = [m('a', 0, 'How do I export my expense report to PDF?'), m('b', 0, 'thanks')];

  it('finds the earlier question a rephrasing repeats', () => {
    expect(repeatOf(earlier, 'how can I export the expense report as a PDF')).toEqual({
      messageId: 'a',
      similarity: expect.any(Number),
    });
  });

  it('does not take a different question, or a short acknowledgement, for a repeat', () => {
    expect(repeatOf(earlier, 'Where do I change my billing address?')).toBeUndefined();
    expect(repeatOf(earlier, 'thanks')).toBeUndefined();
  });
});

describe('scoreInConversation', () => {
  const model = testModel();

  it('adds repetition and sentiment_shift to the message signals, and the repetition to its frustration', () => {
    const s = scoreInConversation(
      [
        {
          messageId: 'a',
          text: 'Hi! How do I export my expense report to PDF? Thanks!',
          valence: 0.6,
        },
        { messageId: 'b', text: 'That did not work.', valence: -0.3 },
      ],
      {
        messageId: 'c',
        text: 'How do I export the expense report to PDF?? This is useless, awful.',
        vector: CALM,
      },
      model,
    );
    expect(s.signals).toEqual(
      expect.arrayContaining(['frustration', 'repetition', 'sentiment_shift']),
    );
    expect(s.repeats?.messageId).toBe('a');
    expect(s.trajectory.shift).toBe(true);
    const learned = s.emotions.frustration;
    expect(s.frustration).toBeCloseTo(1 - (1 - learned) * (1 - 0.6) * (1 - 0.4), 3);
    // The earlier messages carry no frustration score: the smoothing starts at this one.
    expect(s.trajectory.frustration).toBeCloseTo(s.frustration / 2, 3);
  });
});
