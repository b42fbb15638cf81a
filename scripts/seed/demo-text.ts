/** Names and words for the demo data of `npm run seed`. */

export const FIRST_NAMES = [
  "Ada", "Grace", "Alan", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Radia", "Tim",
  "Frances", "Donald", "Hedy", "John", "Katherine", "Edsger", "Joan", "Niklaus", "Annie", "Guido",
] as const;

export const LAST_NAMES = [
  "Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie", "Perlman", "Lee",
  "Allen", "Knuth", "Lamarr", "McCarthy", "Johnson", "Dijkstra", "Clarke", "Wirth", "Easley", "Rossum",
] as const;

export const CAPTIONS = [
  "Golden hour never gets old 🌅",
  "Weekend hike, worth every step",
  "Found this view on the way home",
  "Sunsets and slow mornings",
  "Colors of the evening",
  "Can't believe this is real",
  "Quiet hills, loud thoughts",
  "Chasing light again",
  "A little bit of calm",
  "Postcard from nowhere in particular",
  "That sky though",
  "Back to where it started",
] as const;

export const COMMENTS = [
  "Stunning! 😍",
  "Where is this?",
  "Love the colors",
  "Wow, incredible shot",
  "Take me there",
  "This made my day",
  "So peaceful",
  "🔥🔥🔥",
  "Beautiful light",
  "Frame-worthy",
] as const;
