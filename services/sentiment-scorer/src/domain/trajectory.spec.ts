import { scoreInConversation } from './score';
import { repeatOf, trajectoryOf } from './trajectory';

const m = (messageId: string, valence: number, text = `message ${messageId}`) => ({
  messageId,
  text,
  valence,
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
  it('adds repetition and sentiment_shift to the message signals', () => {
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
      },
    );
    expect(s.signals).toEqual(
      expect.arrayContaining(['frustration', 'repetition', 'sentiment_shift']),
    );
    expect(s.repeats?.messageId).toBe('a');
    expect(s.trajectory.shift).toBe(true);
  });
});
